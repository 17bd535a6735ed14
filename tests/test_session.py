"""A HarnessSession leaves nothing behind: after close (here: leaving `with session:` by an
exception) the server's temp root is gone and its postmaster is dead.

It closes the shared session of the wrong examples, so no second PostgreSQL is started; pytest
runs this file after test_bad_*.py, and in any other order the next case starts the server again
(run_case starts it when needed). The `bad` fixture repeats these checks at its teardown."""

from __future__ import annotations

import psycopg
import pytest

from harness import scratch
from harness.server.native import TEMP_PREFIX
from tests.support import BadRun, process_alive


def test_closing_the_session_removes_the_server(bad: BadRun) -> None:
    session = bad.session
    with pytest.raises(RuntimeError, match="body failed"):
        with session:
            server = session.server
            assert server is not None
            root, pid = server.root, server.postmaster_pid()
            assert root is not None and root.name.startswith(TEMP_PREFIX) and root.is_dir()
            assert root.parent == scratch.parent()   # in memory where the machine has a roomy tmpfs
            assert pid is not None and process_alive(pid)
            with psycopg.connect(server.admin_conninfo(), autocommit=True) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            raise RuntimeError("body failed")
    assert session.server is None
    assert not root.exists(), f"{root} is left behind"
    assert not process_alive(pid), f"postmaster {pid} still runs"
    session.close()  # a second close is harmless
