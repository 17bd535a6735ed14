"""The speed-ups keep what they replace: reused superuser connections survive a cut connection,
case databases made ahead are never handed out twice nor dropped under a new case, lanes keep an
example's cases in spec order with a role each, and the benchmark's figures reach the HTML."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from harness.admin_connections import AdminConnections
from harness.janitor import role_name
from harness.reporting.benchmark import benchmark_section, read_benchmark
from harness.schedule import Lane, case_seconds, default_jobs, lanes
from harness.spare_databases import SpareDatabases
from tests.support import BadRun


@dataclass
class FakeExample:
    id: str
    applies: tuple[str, ...]
    not_applicable: dict[str, str] = field(default_factory=dict)


def _plan() -> list[tuple[FakeExample, list[str]]]:
    slow = FakeExample("java/slow", ("a", "b", "idle", "c", "d"))
    quick = FakeExample("py/quick", ("a", "b"))
    return [(slow, ["a", "b", "idle", "c", "d", "na"]), (quick, ["a", "b", "na"])]


SECONDS = {"java/slow::idle": 10.0, "java/slow::a": 2.0, "java/slow::b": 2.0, "java/slow::c": 2.0,
           "java/slow::d": 2.0, "py/quick::a": 1.0, "py/quick::b": 1.0}


def test_serial_is_one_lane_per_example_in_spec_order() -> None:
    work = lanes(_plan(), 1, SECONDS)  # type: ignore[arg-type]
    assert [(w.example.id, w.names, w.index) for w in work] == [
        ("java/slow", ("a", "b", "idle", "c", "d", "na"), 0), ("py/quick", ("a", "b", "na"), 0)]


def test_a_long_example_gets_a_second_lane_so_its_long_wait_overlaps_its_other_cases() -> None:
    work = lanes(_plan(), 2, SECONDS)  # type: ignore[arg-type]
    slow = [w for w in work if w.example.id == "java/slow"]
    assert len(slow) == 2 and {w.index for w in slow} == {0, 1}
    idle_lane = next(w for w in slow if "idle" in w.names)
    assert idle_lane.seconds == 10.0   # the 10 s wait alone; the other cases beside it
    other = next(w for w in slow if w is not idle_lane)
    assert other.names == ("a", "b", "c", "d", "na")
    for lane in work:   # each lane keeps the spec's order
        order = _plan()[0][1] if lane.example.id == "java/slow" else _plan()[1][1]
        assert list(lane.names) == sorted(lane.names, key=order.index)
    assert work == sorted(work, key=lambda w: -w.seconds)   # the longest starts first
    every = sorted(n for w in work if w.example.id == "java/slow" for n in w.names)
    assert every == sorted(_plan()[0][1])   # nothing lost, nothing twice
    assert isinstance(work[0], Lane)


def test_lanes_log_in_as_roles_of_their_own() -> None:
    assert role_name("java/hikaricp") == "ex_java_hikaricp"
    assert role_name("java/hikaricp", 1) == "ex2_java_hikaricp"
    assert role_name("java/hikaricp", 1) != role_name("java/hikaricp")


def test_default_jobs_is_one_per_core_within_limits() -> None:
    assert default_jobs(1) == 1 and default_jobs(2) == 2 and default_jobs(64) == 4


def test_case_seconds_come_from_an_earlier_results_json(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    assert case_seconds(results) == {}
    results.write_text('{"examples": [{"id": "x/y", "scenarios": [{"name": "a", "seconds": 1.5}]}]}')
    assert case_seconds(results) == {"x/y::a": 1.5}
    results.write_text("not json")
    assert case_seconds(results) == {}


def test_spares_are_handed_out_once_and_a_pending_drop_never_hits_a_new_database() -> None:
    made: list[str] = []
    dropped: list[str] = []
    gate = threading.Lock()
    spares = SpareDatabases(made.append, dropped.append, ready=2, hold=lambda: gate)
    assert spares.take() is None   # the thread starts now: nothing can be ready before it
    deadline = time.monotonic() + 5
    while len(made) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    first, second = spares.take(), spares.take()
    assert first and second and first != second
    with gate:   # the thread cannot work while a case holds the gate: the drop stays queued
        spares.drop_later("db_case")
        spares.claim("db_case")   # the same case runs again: its old drop is cancelled
    left = spares.close()
    assert "db_case" not in dropped
    assert set(left) <= set(made) - {first, second}


def test_a_reused_superuser_connection_that_was_cut_is_replaced(bad: BadRun) -> None:
    bad.session.start()   # tests/test_session.py closes the shared session once on purpose
    assert bad.session.server is not None
    conninfo = bad.session.server.admin.conninfo()
    pool = AdminConnections()
    with pool.connect(conninfo) as conn:
        pid = conn.info.backend_pid
    with pool.connect(conninfo) as conn:
        assert conn.info.backend_pid == pid   # reused, no second login
    with psycopg.connect(conninfo, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)
    with pool.connect(conninfo) as conn:
        assert conn.info.backend_pid != pid
        assert conn.execute("SELECT 1").fetchone() == (1,)
    pool.close_idle(conninfo)


def test_the_benchmark_figures_reach_the_html_report(tmp_path: Path) -> None:
    assert read_benchmark(tmp_path) is None and benchmark_section(None) == ""
    run = {"jobs": 2, "wall_s": 50.0, "walls_s": [49.0, 50.0, 55.0], "builds_s": 0.0, "processes_s": 60.0,
           "overhead_ratio": 1.0, "failed": 0}
    (tmp_path / "benchmark.json").write_text(
        '{"backends": {"native": {"warm_default": ' + str(run).replace("'", '"') + ', "bare": {"wall_s": 40.0},'
        ' "critical_path": {"bound_s": 30.0, "longest_lane": "java/hikaricp lane 1", "longest_lane_s": 30.0}}},'
        ' "goals": [["native warm default run <= 45 s", false, "50.0 s"]], "repeat": 3}')
    section = benchmark_section(read_benchmark(tmp_path))
    assert "NOT MET" in section and "50 s" in section and "49, 50, 55" in section and "java/hikaricp lane 1" in section
