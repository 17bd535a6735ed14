"""The server dying mid-run is one clear run-level error naming the cause (the server log's
tail), not a cascade of unrelated case failures; and nothing of the run is left behind."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psycopg
import pytest

from harness.case.pipeline import run_case
from harness.errors import ServerDied
from harness.runner import Selection, planned_cases, run_matrix
from harness.session import HarnessSession
from tests.support import BAD_EXAMPLES, config_for, dies_within


def _session(tmp_path: Path) -> HarnessSession:
    return HarnessSession(config_for(BAD_EXAMPLES, tmp_path))


def _kill_server(session: HarnessSession) -> None:
    server = session.server
    assert server is not None
    pid = server.postmaster_pid()  # type: ignore[attr-defined]
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    assert dies_within(pid, 5)


def test_a_dead_server_is_one_run_level_error(tmp_path: Path) -> None:
    session = _session(tmp_path)
    with session:
        example = next(e for e in session.examples if e.id == "good/reference")
        assert run_case(session, example, "connect_now").outcome.value == "passed"
        root = session.server.root  # type: ignore[union-attr]
        # A killed postmaster cannot remove POSIX shared memory (in /dev/shm, outside the run's
        # directory): the server keeps its dynamic shared memory in its data directory instead.
        with psycopg.connect(session.server.admin.conninfo()) as conn:  # type: ignore[union-attr]
            assert conn.execute("SHOW dynamic_shared_memory_type").fetchone() == ("mmap",)
        _kill_server(session)
        with pytest.raises(ServerDied, match="the PostgreSQL server stopped during the run"):
            run_case(session, example, "select_rows")
    assert root is not None and not root.exists()


def test_the_runner_stops_at_the_first_sign_and_says_why(tmp_path: Path) -> None:
    session = _session(tmp_path)
    with session:
        _kill_server(session)
        plan = planned_cases(session.catalog, Selection(examples=("good/reference",)))
        run = run_matrix(session, plan)
    assert len(run.errors) == 1, run.errors
    assert "good/reference::connect_now" in run.errors[0]
    assert "the PostgreSQL server stopped during the run" in run.errors[0]
    assert "its log ends with" in run.errors[0]
    assert not run.ok
    assert all(not e.scenarios for e in run.examples), "no case may be reported after the server died"
