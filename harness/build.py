"""Builds each example once, natively, in its own folder. The build is skipped when a hash of
the example's sources (every file but its declared build outputs) matches the last good build."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.manifest import DEFAULT_IGNORED, Example
from harness.process import run_process
from harness.ticker import ticking

if TYPE_CHECKING:
    from harness.sandbox import Sandbox

LOCK_DIR = ".harness"  # in the example's folder; ignored by the source hash and by git


def source_hash(example: Example) -> str:
    ignored = set(DEFAULT_IGNORED) | {o.strip("/") for o in example.build_outputs}
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(example.folder):
        rel_dir = Path(dirpath).relative_to(example.folder)
        dirnames[:] = sorted(d for d in dirnames if str(rel_dir / d) not in ignored and d not in DEFAULT_IGNORED)
        for name in sorted(filenames):
            rel = rel_dir / name
            if str(rel) in ignored:
                continue
            digest.update(str(rel).encode() + b"\0")
            digest.update((Path(dirpath) / name).read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


@dataclass
class BuildResult:
    ok: bool
    cached: bool
    seconds: float
    source_hash: str
    log_path: Path | None = None
    message: str = ""

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Builds happen in the example's own folder: two runs from one checkout take turns."""
    (folder / LOCK_DIR).mkdir(exist_ok=True)
    with open(folder / LOCK_DIR / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class BuildCache:
    def __init__(self, cache_dir: Path, environ: Mapping[str, str], sandbox: "Sandbox | None" = None) -> None:
        self.dir = cache_dir / "builds"
        self.environ = environ  # the build inherits the harness's environment
        self.sandbox = sandbox

    def _stamp(self, example: Example) -> Path:
        return self.dir / (example.id.replace("/", "__") + ".json")

    def log_path(self, example: Example) -> Path:
        return self.dir / (example.id.replace("/", "__") + ".log")

    def is_fresh(self, example: Example, digest: str) -> bool:
        stamp = self._stamp(example)
        if not stamp.exists():
            return False
        recorded = json.loads(stamp.read_text())
        outputs_present = all((example.folder / o).exists() for o in example.build_outputs)
        return recorded.get("source_hash") == digest and outputs_present

    def build(self, example: Example, force: bool = False) -> BuildResult:
        if example.build_command is None:
            return BuildResult(True, True, 0.0, source_hash(example))
        with folder_lock(example.folder):  # the other run's build, if any, is finished (and maybe fresh) now
            return self._build(example, force)

    def _build(self, example: Example, force: bool) -> BuildResult:
        assert example.build_command is not None
        digest = source_hash(example)
        if not force and self.is_fresh(example, digest):
            return BuildResult(True, True, 0.0, digest, self.log_path(example))
        self.dir.mkdir(parents=True, exist_ok=True)
        self._stamp(example).unlink(missing_ok=True)
        start = time.monotonic()
        with ticking(f"building {example.id}"):
            run = run_process(example.build_command, example.folder, self.environ, example.build_timeout,
                              confine=self.sandbox.case() if self.sandbox else None)
        log = self.log_path(example)
        log.write_text(f"$ {' '.join(run.argv)}\n{run.stdout}\n{run.stderr}")
        seconds = time.monotonic() - start
        if run.start_error:
            return BuildResult(False, False, seconds, digest, log, run.start_error)
        if run.timed_out:
            return BuildResult(False, False, seconds, digest, log, f"build timed out after {example.build_timeout:.0f} s")
        if run.exit_code != 0:
            return BuildResult(False, False, seconds, digest, log, f"build exited with code {run.exit_code}")
        self._stamp(example).write_text(json.dumps({"source_hash": digest, "built_at": time.time(),
                                                    "seconds": round(seconds, 3)}))
        return BuildResult(True, False, seconds, digest, log)
