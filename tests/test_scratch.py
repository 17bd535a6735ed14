"""Where a run's directories go (harness.scratch): in memory when /dev/shm is a tmpfs with room,
unless the temp dir was pointed elsewhere."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from harness import scratch


def test_a_temp_dir_pointed_away_from_tmp_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert scratch.parent() == tmp_path
    assert scratch.candidates()[0] == tmp_path


def test_the_default_temp_dir_gives_way_to_a_roomy_tmpfs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", "/tmp")
    monkeypatch.setattr(scratch, "MEMORY_DIR", Path("/proc"))   # mounted, but not a tmpfs
    assert scratch.parent() == Path("/tmp")
    monkeypatch.setattr(scratch, "MEMORY_DIR", Path("/dev/shm"))
    monkeypatch.setattr(scratch, "MIN_FREE_BYTES", 1 << 62)       # a tmpfs without the room
    assert scratch.parent() == Path("/tmp")
