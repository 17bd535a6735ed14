"""The pool checks, each proven by a deliberately wrong pooled example: one that opens more
connections than its max, one that never releases, one that hangs on acquire, one that crashes
after a server restart. good/reference runs the same scenarios with a correct bounded pool."""

from __future__ import annotations

import re

import pytest

from harness.outcome import Outcome
from harness.scenarios.pools import PoolAcquireTimeout
from tests.support import BadRun, problems_of


@pytest.mark.parametrize("scenario", ["pool_bounded", "pool_release", "pool_acquire_timeout", "pool_recovery_restart"])
def test_a_correct_pool_passes(bad: BadRun, scenario: str) -> None:
    result = bad.case("good/reference", scenario)
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message


def test_opening_more_connections_than_max(bad: BadRun) -> None:
    result = bad.case("bad/pool-unbounded", "pool_bounded")
    assert result.outcome is Outcome.FAILED
    # All 16 tasks hold their own connection at once (the example waits on a barrier).
    assert result.message == "the pool opened 16 connections at once; its max is 4 (connection log)"
    assert not any("succeeded" in p for p in problems_of(result))  # the burst itself did its work
    assert result.observed["peak_open"] == 16
    assert result.observed["connections_opened"] == 16


def test_never_releasing(bad: BadRun) -> None:
    result = bad.case("bad/pool-leak", "pool_release")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == [
        "4 backend(s) were 'idle in transaction' after the work: a connection was not released (commit/rollback missing)",
        "4 backend(s) still open 2 s after the pool was closed (or the example never reached checkpoint after_close)",
    ]
    assert result.observed["backends_after_work"] == ["idle in transaction"] * 4


def test_hanging_on_acquire(bad: BadRun) -> None:
    result = bad.case("bad/pool-hang", "pool_acquire_timeout")
    assert result.outcome is Outcome.FAILED
    assert result.message == ("timed out after 3 s; its process group was killed: " + PoolAcquireTimeout.timeout_hint)
    assert "an acquire never returned: the pool has no acquire timeout" in result.message
    assert result.observed["process_seconds"] < 3 + 3


def test_crashing_after_a_server_restart(bad: BadRun) -> None:
    result = bad.case("bad/pool-restart-crash", "pool_recovery_restart")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == ["exited with code 1", 'printed no {"type": "result", ...} line']
    assert result.failure is not None
    # The uncaught connection error of the second burst (AdminShutdown is an OperationalError).
    assert re.search(r"^psycopg\.(errors\.AdminShutdown|OperationalError): ", result.failure.stderr_tail, re.M), \
        result.failure.stderr_tail
    # It got as far as the checkpoint: the crash is the second burst's.
    assert '{"type": "checkpoint", "name": "between_bursts"}' in result.stdout
    # The server is back for the cases after this one.
    assert bad.session.server is not None and bad.session.server.is_alive()
