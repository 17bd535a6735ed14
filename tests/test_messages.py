"""How a run is put into words: a timeout by the checkpoints reached, stderr by its first and
last lines. (The wrong examples in test_bad_verdicts.py show the same end to end.)"""

from __future__ import annotations

from typing import Any

from harness.messages import kept_stderr, stderr_excerpt, timeout_problem
from harness.process import ProcessRun
from harness.scenarios.pools import PoolRelease, Recovery


def run_with(*messages: dict[str, Any], stderr: str = "", head: str = "", written: int | None = None) -> ProcessRun:
    run = ProcessRun(argv=["x"], timed_out=True, messages=list(messages), stderr=stderr, stderr_head=head)
    run.stderr_bytes = len(stderr.encode()) if written is None else written
    return run


def checkpoint(name: str) -> dict[str, Any]:
    return {"type": "checkpoint", "name": name}


def test_a_hang_names_the_last_checkpoint_reached_and_the_next_expected() -> None:
    message = timeout_problem(run_with(checkpoint("after_work")), 40, PoolRelease, "pg")
    assert message == ("timed out after 40 s; its process group was killed: reached after_work, never after_close: "
                       "a client that was never released keeps the pool's close (pool.end()) waiting")
    assert timeout_problem(run_with(), 40, PoolRelease, "pg").endswith(": never reached checkpoint after_work")


def test_a_hang_after_every_checkpoint_says_so() -> None:
    message = timeout_problem(run_with(checkpoint("between_bursts")), 60, Recovery, "SQLAlchemy")
    assert message.endswith(": reached between_bursts, the last checkpoint, then printed no result: the second "
                            "burst never finished: the pool waits on connections that died in the fault")


def test_a_result_then_no_exit_is_its_own_failure() -> None:
    message = timeout_problem(run_with({"type": "result", "data": {}}), 30, PoolRelease, "pg")
    assert message.startswith("printed its result, then did not exit within 30 s")


def test_stderr_shows_its_first_and_last_lines() -> None:
    lines = [f"line {i}" for i in range(100)]
    excerpt = stderr_excerpt(run_with(stderr="\n".join(lines)), head=3, tail=2)
    assert excerpt.splitlines() == ["line 0", "line 1", "line 2", "[... 95 lines left out ...]", "line 98", "line 99"]
    short = "\n".join(lines[:5])
    assert stderr_excerpt(run_with(stderr=short)) == short and kept_stderr(run_with(stderr=short)) == short


def test_stderr_beyond_the_kept_tail_still_shows_its_start() -> None:
    run = run_with(stderr="tail 1\ntail 2", head="the cause\nmore", written=10**6)
    excerpt = stderr_excerpt(run, head=1, tail=1)
    assert excerpt.splitlines() == ["the cause", "[... 1,000,000 bytes in all; the middle is left out ...]", "tail 2"]
    assert kept_stderr(run).startswith("the cause\nmore\n[... the middle of stderr is left out ...]")
