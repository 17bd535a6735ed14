"""Shared fixtures of the harness's own tests.

The deliberately wrong examples in tests/bad_examples/ (and the one control, good/reference)
run through ONE HarnessSession, so one PostgreSQL serves every case. They are plain Python
programs using psycopg 3 from this interpreter: their run.command is
`PYTHONPATH=../.. exec "$BAD_EXAMPLE_PYTHON" main.py`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.session import HarnessSession
from tests.support import BAD_EXAMPLES, BadRun, IsolatedRuns, config_for, process_alive

# The harness passes its own environment on to the examples, minus PG*, HARNESS_* and DATABASE_URL.
os.environ["BAD_EXAMPLE_PYTHON"] = sys.executable


@pytest.fixture
def isolated_runs(request: pytest.FixtureRequest) -> Iterator[IsolatedRuns]:
    """Harness CLI runs of the test's own; whatever they leave goes at teardown, pass or fail."""
    runs = IsolatedRuns(f"harness-{request.node.module.__name__.rsplit('.', 1)[-1]}-")
    try:
        yield runs
    finally:
        runs.close()


@pytest.fixture(scope="session")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BadRun]:
    work = tmp_path_factory.mktemp("bad-session")
    state = work / "state"
    state.mkdir()
    os.environ["BAD_EXAMPLE_STATE"] = str(state)
    session = HarnessSession(config_for(BAD_EXAMPLES, work))
    try:
        session.start()
        yield BadRun(session, state)
    finally:
        server = session.server
        root = getattr(server, "root", None)
        pid = server.postmaster_pid() if server is not None and hasattr(server, "postmaster_pid") else None
        session.close()
        # Nothing of the run may outlive it (tests/test_session.py closes it once on purpose).
        assert session.server is None
        assert root is None or not Path(root).exists(), f"the server's temp dir {root} is left behind"
        assert pid is None or not process_alive(pid), f"the postmaster {pid} still runs"

