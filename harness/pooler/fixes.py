"""Driver fixes (spec/pgbouncer.yaml `fixes:`): a documented setting that makes a sample work in
a pooled topology, passed by the harness from outside (environment and files), never a second
copy of the sample. A fixed case runs in topology "<topology>+<name>" beside the sample as written."""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from harness import scratch
from harness.errors import InputError
from harness.pooler.known import spec_entries
from harness.server.native import TEMP_PREFIX

KEYS = {"name", "examples", "topologies", "reason", "resolves", "files", "env", "link"}
# Also in a fixed case's environment: the dir holding the fix's files and the names of the
# variables it sets, so that an executor running the example elsewhere (a container) can carry
# both over (harness.backends.docker mounts the dir at the same path and passes the variables).
FIX_DIR_VARIABLE = "HARNESS_FIX_DIR"
FIX_NAMES_VARIABLE = "HARNESS_FIX_VARIABLES"


@dataclass(frozen=True)
class DriverFix:
    name: str                      # the row's topology is "<topology>+<name>"
    examples: tuple[str, ...]      # globs of example ids
    topologies: tuple[str, ...]    # the pooled topologies it is for
    reason: str
    env: dict[str, str] = field(default_factory=dict)     # {dir}: the temp dir holding `files`
    files: dict[str, str] = field(default_factory=dict)   # name -> content
    link: str = ""
    resolves: tuple[str, ...] = ()   # the scenarios whose known incompatibility it fixes: they must pass

    def label(self, topology: str) -> str:
        return f"{topology}+{self.name}"

    def covers(self, example_id: str, topology: str) -> bool:
        return topology in self.topologies and any(fnmatch.fnmatch(example_id, p) for p in self.examples)


@lru_cache(maxsize=4)
def load_fixes(spec_dir: Path) -> tuple[DriverFix, ...]:
    fixes = []
    for where, entry in spec_entries(spec_dir, "fixes", KEYS, ("name", "examples", "topologies", "reason", "resolves", "env")):
        if "+" in str(entry["name"]):
            raise InputError(where, "name", f"{entry['name']!r} has a '+'", "name the fix without '+' (it joins the topology)")
        fixes.append(DriverFix(str(entry["name"]), tuple(entry["examples"]), tuple(entry["topologies"]),
                               " ".join(str(entry["reason"]).split()), {str(k): str(v) for k, v in entry["env"].items()},
                               {str(k): str(v) for k, v in (entry.get("files") or {}).items()}, str(entry.get("link", "")),
                               tuple(entry["resolves"])))
    return tuple(fixes)


def fixes_for(spec_dir: Path, example_id: str, topology: str) -> list[DriverFix]:
    return [fix for fix in load_fixes(spec_dir) if fix.covers(example_id, topology)]


def fix_of(spec_dir: Path, topology: str) -> DriverFix | None:
    """The fix a topology label names ("pgbouncer-transaction+prepareThreshold=0"), or None."""
    base, _, name = topology.partition("+")
    return next((f for f in load_fixes(spec_dir) if name and f.name == name and base in f.topologies), None)


@contextmanager
def applied(fix: DriverFix | None) -> Iterator[dict[str, str]]:
    """The fix's environment, its files written to a temp dir of the run's kind (gone after)."""
    if fix is None:
        yield {}
        return
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}fix-", dir=scratch.parent()))
    try:
        folder.chmod(0o755)
        for name, content in fix.files.items():
            (folder / name).write_text(content)
            (folder / name).chmod(0o644)
        env = {key: value.replace("{dir}", str(folder)) for key, value in fix.env.items()}
        yield {**env, FIX_DIR_VARIABLE: str(folder), FIX_NAMES_VARIABLE: " ".join(sorted(env))}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
