"""Where the project's parts live. Everything is relative to the repository root, which can
be moved with HARNESS_ROOT (tests point it at a folder of deliberately wrong examples)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ProjectPaths:
    examples: Path
    spec: Path
    cache: Path
    reports: Path

    @classmethod
    def default(cls) -> "ProjectPaths":
        root = Path(os.environ.get("HARNESS_ROOT", REPO_ROOT))
        return cls(
            examples=Path(os.environ.get("HARNESS_EXAMPLES", root / "examples")),
            spec=Path(os.environ.get("HARNESS_SPEC", REPO_ROOT / "spec")),
            cache=Path(os.environ.get("HARNESS_CACHE", REPO_ROOT / ".harness")),
            reports=root / "reports",
        )
