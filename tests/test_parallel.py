"""Examples run in parallel (--jobs) give the same verdicts as a serial run, with the server's
record attributed exactly: the unbounded pool's 16 connections are its own, never the
reference's, and a restart case runs alone (the others' cases around it still pass)."""

from __future__ import annotations

from harness.gate import CaseGate
from harness.runner import Selection, planned_cases, run_matrix
from tests.support import BadRun

EXAMPLES = ("good/reference", "bad/pool-unbounded", "bad/wrong-output")
# The pools (attribution: the unbounded pool's connections; the restart case that runs alone) and
# a few short cases around them: what a parallel run can get wrong, without the stories' minutes.
SCENARIOS = ("connect_now", "select_rows", "transaction", "pool_*")


def _verdicts(bad: BadRun, jobs: int) -> dict[str, tuple[str, object]]:
    plan = planned_cases(bad.session.catalog, Selection(examples=EXAMPLES, scenarios=SCENARIOS))
    run = run_matrix(bad.session, plan, jobs=jobs)
    assert not run.errors, run.errors
    return {f"{e.id}::{s.name}": (s.outcome.value, s.observed.get("peak_open")) for e in run.examples
            for s in e.scenarios}


def test_parallel_examples_give_the_serial_verdicts(bad: BadRun) -> None:
    serial = _verdicts(bad, jobs=1)
    parallel = _verdicts(bad, jobs=3)
    assert parallel == serial
    assert serial["bad/pool-unbounded::pool_bounded"] == ("failed", 16)
    assert serial["good/reference::pool_bounded"][0] == "passed"
    assert serial["good/reference::pool_recovery_restart"][0] == "passed"
    assert serial["bad/wrong-output::select_rows"][0] == "failed"


def test_an_exclusive_case_waits_for_shared_ones_and_holds_new_ones_back() -> None:
    import threading
    import time

    gate = CaseGate()
    order: list[str] = []
    shared_started = threading.Event()

    def shared(name: str, hold: float) -> None:
        with gate.shared():
            order.append(f"{name} in")
            shared_started.set()
            time.sleep(hold)
            order.append(f"{name} out")

    def exclusive() -> None:
        with gate.exclusive():
            order.append("restart in")
            time.sleep(0.05)
            order.append("restart out")

    first = threading.Thread(target=shared, args=("a", 0.2))
    first.start()
    shared_started.wait()
    restart = threading.Thread(target=exclusive)
    restart.start()
    time.sleep(0.05)
    late = threading.Thread(target=shared, args=("b", 0.0))
    late.start()
    for thread in (first, restart, late):
        thread.join()
    assert order == ["a in", "a out", "restart in", "restart out", "b in", "b out"]
