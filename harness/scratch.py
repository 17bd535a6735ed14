"""Where a run puts its directories: the server's data directory, PgBouncer's, the cases'.

A throwaway cluster is written to all run long: every case gets a database copied from the
template (about 8 MB) and dropped after it. On this project's machines the disk is ext4 with
online discard, and one CREATE DATABASE cost about 0.33 s of kernel CPU there against 0.01 s on a
tmpfs: a third of a run's CPU went to it. So a run's directories go to /dev/shm when it is a
tmpfs with MIN_FREE_BYTES free, and to the temp dir otherwise. A temp dir pointed away from
/tmp (TMPDIR) is always honoured: the user chose where temp files go, and the harness's own
tests isolate runs by it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MEMORY_DIR = Path("/dev/shm")
SYSTEM_TEMP_DIR = Path("/tmp")
MIN_FREE_BYTES = 2 << 30   # a run's server with its WAL stays well under this


def parent() -> Path:
    """The directory a run's directories are made in."""
    chosen = Path(tempfile.gettempdir())
    if chosen == SYSTEM_TEMP_DIR and _roomy_tmpfs(MEMORY_DIR):
        return MEMORY_DIR
    return chosen


def candidates() -> list[Path]:
    """Every directory a run of this machine may have used (what the reaper looks through):
    parent() is one of them."""
    return [Path(tempfile.gettempdir())] + ([MEMORY_DIR] if _roomy_tmpfs(MEMORY_DIR) else [])


def _roomy_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        stats = os.statvfs(path)
    except OSError:
        return False
    tmpfs = any(fields[1] == str(path) and fields[2] == "tmpfs"
                for fields in (line.split() for line in mounts) if len(fields) > 2)
    writable = os.access(path, os.W_OK | os.X_OK)
    return tmpfs and writable and stats.f_bavail * stats.f_frsize >= MIN_FREE_BYTES
