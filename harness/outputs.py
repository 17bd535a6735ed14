"""Where a run writes: `--out` is a file (results.json's path; the reports go beside it) or a
directory (results.json and the reports go into it). Checked before the run, not after it, and
held for the run: a second run writing to the same place refuses, saying which run holds it;
results.json itself is replaced atomically, so a reader never sees half a file."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path
from typing import IO

from harness.errors import InputError

RESULTS_NAME = "results.json"
LOCK_NAME = ".harness-run.lock"


def resolve_name(given: str | Path) -> Path:
    """The results file `--out` names. A trailing slash means a directory, also one that does not
    exist yet."""
    out = Path(given)
    if out.is_dir() or str(given).endswith(os.sep):
        out = out / RESULTS_NAME
    return out


def resolve(given: str | Path, option: str = "--out") -> Path:
    """The results file `--out` names; InputError (naming the path and the fix) if it cannot be
    written."""
    out = resolve_name(given)
    if out.exists() and not out.is_file():
        raise InputError(option, str(out), "exists and is not a file", f"give a file path, or a directory for {RESULTS_NAME}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=".harness-write-test-"):
            pass
    except OSError as exc:
        raise InputError(option, str(out), f"cannot be written: {exc.strerror or exc}",
                         "choose a directory you can write to (the reports go beside results.json)") from None
    return out


class OutputLock:
    """Held for the whole run on the directory the results and reports go to."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._file: IO[str] | None = None

    def __enter__(self) -> "OutputLock":
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise InputError("--out", str(self.path.parent), f"is being written by another run (pid {holder})",
                             "wait for it to finish, or give this run its own --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self.path.unlink(missing_ok=True)  # while still held: the next run makes a fresh one
            self._file.close()
            self._file = None


def write_atomically(path: Path, text: str) -> None:
    """Into a temp file beside it, then rename: readers see the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
