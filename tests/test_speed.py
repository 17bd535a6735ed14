"""The speed-ups keep what they replace: reused superuser connections survive a cut connection,
case databases made ahead are never handed out twice nor dropped under a new case, the parallel
schedule hands each case out once with a role of its own and keeps the CPU within the cores, and
the benchmark's figures reach the HTML."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import psycopg
import pytest

from harness.admin_connections import AdminConnections
from harness.janitor import database_name, role_name
from harness.pooler import case_key
from harness.reporting.benchmark import benchmark_section, read_benchmark
from harness import case_costs, schedule
from harness.case_costs import CaseCosts
from harness.gate import CaseGate, GateClosed
from harness.outcome import Outcome, ScenarioResult
from harness.process import allow_starts, starts_refused
from harness.schedule import (MAX_DEFAULT_JOBS, UNKNOWN_CASE_SECONDS, Case, CaseQueue, cpu_weights, default_jobs, ordered,
                              roles_for, work_through)
from harness.spare_databases import SpareDatabases
from tests.support import REPO, BadRun


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


def _cases() -> list[Case]:
    return [Case(e, n, "direct", SECONDS.get(f"{e.id}::{n}", 0.0), exclusive=(n == "b" and e.id == "py/quick"))
            for e, names in _plan() for n in names]  # type: ignore[arg-type]


def test_one_worker_gives_every_example_one_role() -> None:
    assert roles_for(_plan(), 1, SECONDS) == {"java/slow": 1, "py/quick": 1}  # type: ignore[arg-type]


def test_a_long_example_gets_a_second_role_so_its_long_wait_overlaps_its_other_cases() -> None:
    assert roles_for(_plan(), 2, SECONDS) == {"java/slow": 2, "py/quick": 1}  # type: ignore[arg-type]


def test_restart_cases_go_first_then_the_longest() -> None:
    order = [(c.example.id, c.name) for c in ordered(_cases())]
    assert order[0] == ("py/quick", "b")        # exclusive: alone at the start, nobody waits for it
    assert order[1] == ("java/slow", "idle")    # the 10 s wait starts next, beside everything else
    assert order[-2:] == [("java/slow", "na"), ("py/quick", "na")]   # judged without running


def test_the_queue_hands_out_each_case_once_and_a_role_serves_one_case_at_a_time() -> None:
    queue = CaseQueue(_cases(), {"java/slow": 2, "py/quick": 1})
    held: dict[tuple[str, int], str] = {}
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(case: Case, role: int) -> bool:
        with lock:
            assert (case.example.id, role) not in held, "two cases at once on one role"
            held[(case.example.id, role)] = case.name
            seen.append((case.example.id, case.name))
        time.sleep(0.01)
        with lock:
            del held[(case.example.id, role)]
        return True

    work_through(queue, 4, run)
    assert sorted(seen) == sorted((c.example.id, c.name) for c in _cases())


def test_work_beside_the_cases_is_told_when_the_restart_cases_are_over() -> None:
    # The probe's link half holds the gate: started before the restart cases, they would wait
    # seconds for it with the machine idle.
    queue = CaseQueue(_cases(), {"java/slow": 1, "py/quick": 1})
    over_when: list[tuple[str, bool]] = []

    def run(case: Case, role: int) -> bool:
        over_when.append((case.name, queue.restarts_over.is_set()))
        return True

    assert not queue.restarts_over.is_set()
    work_through(queue, 1, run)
    assert over_when[0] == ("b", False) and all(over for _, over in over_when[1:])
    assert CaseQueue([c for c in _cases() if not c.exclusive], {"java/slow": 1, "py/quick": 1}).restarts_over.is_set()


def test_a_failing_case_stops_the_queue() -> None:
    queue = CaseQueue(_cases(), {"java/slow": 1, "py/quick": 1})
    ran: list[str] = []
    work_through(queue, 1, lambda case, role: ran.append(case.name) or False)
    assert ran == ["b"]


def test_the_gate_keeps_the_running_cases_within_the_cpu_budget() -> None:
    gate = CaseGate()
    gate.limit_cpu(2.0, {"x::heavy": 1.0, "x::light": 0.25})
    load: list[float] = []
    now = [0.0]
    lock = threading.Lock()

    def case(name: str, weight: float) -> None:
        with gate.shared(f"x::{name}"):
            with lock:
                now[0] += weight
                load.append(now[0])
            time.sleep(0.05)
            with lock:
                now[0] -= weight

    threads = [threading.Thread(target=case, args=("heavy", 1.0)) for _ in range(4)]
    threads += [threading.Thread(target=case, args=("light", 0.25)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(load) <= 2.0 + 1e-9          # never past the cores
    assert max(load) > 1.0                  # light cases overlapped the heavy ones


def test_an_unknown_case_weighs_a_core_and_a_declared_one_at_least_what_it_declares() -> None:
    costs = CaseCosts(seconds={"x/y::waits": 10.0, "x/y::story": 7.0, "x/y::short": 0.2},
                      cpu_share={"x/y::waits": 0.05, "x/y::story": 0.2, "x/y::waits@pgbouncer-session": 0.9,
                                 "x/y::pooled_only@pgbouncer-transaction": 0.1, "x/y::short": 0.3})
    weights = cpu_weights(costs, {"story": 1.0}, case_cpu_seconds=0.1)
    assert weights == pytest.approx({
        "x/y::waits": 0.05 + 0.1 / 10.0,   # the direct run's share wins; the per-case cost over its 10 s
        "x/y::story": 1.0,                 # at least what it declares
        "x/y::pooled_only": 0.1 + 0.1 / UNKNOWN_CASE_SECONDS,   # else a pooled run's; its seconds unknown
        "x/y::short": 0.3 + 0.1 / 0.2})    # a short case: the per-case cost is most of it
    gate = CaseGate()
    gate.limit_cpu(1.0, weights)
    entered = threading.Event()

    def light_case() -> None:
        with gate.shared("x/y::waits"):
            entered.set()

    with gate.shared("x/y::never-measured"):
        light = threading.Thread(target=light_case)
        light.start()
        assert not entered.wait(0.2)   # the unknown case took the whole core
    light.join(5)
    assert entered.is_set()            # and once it is done, the light case runs


def test_lanes_log_in_as_roles_of_their_own() -> None:
    assert role_name("java/hikaricp") == "ex_java_hikaricp"
    assert role_name("java/hikaricp", 1) == "ex2_java_hikaricp"
    assert role_name("java/hikaricp", 1) != role_name("java/hikaricp")


def test_default_jobs_is_four_a_core_within_limits() -> None:
    assert default_jobs(1) == 4 and default_jobs(2) == 8 and default_jobs(64) == MAX_DEFAULT_JOBS


def test_case_costs_are_kept_in_the_cache_across_runs(tmp_path: Path) -> None:
    assert case_costs.load(tmp_path, "native", seed=None) == CaseCosts()
    ran = ScenarioResult("a", Outcome.PASSED, seconds=1.5, observed={"process_seconds": 1.2, "process_cpu_seconds": 0.3})
    not_run = ScenarioResult("b", Outcome.NOT_APPLICABLE)
    case_costs.record(tmp_path, "native", {"x/y": {"a": ran, "b": not_run}})
    case_costs.record(tmp_path, "docker", {"x/y": {"a": replace(ran, seconds=2.5, observed={"process_seconds": 2.4})}})
    native, docker = case_costs.load(tmp_path, "native", seed=None), case_costs.load(tmp_path, "docker", seed=None)
    assert native.seconds == {"x/y::a": 1.5} and docker.seconds == {"x/y::a": 2.5}
    assert native.cpu_share == docker.cpu_share == {"x/y::a": 0.25}   # measured natively, shared
    (tmp_path / case_costs.FILE_NAME).write_text("not json")
    assert case_costs.load(tmp_path, "native", seed=None) == CaseCosts()


def test_the_shipped_costs_fill_in_what_this_machine_has_not_measured(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"cpu_share": {"x/y::a": 0.9, "x/y::b": 0.4}, "seconds:native": {"x/y::b": 3.0}}))
    cache = tmp_path / "cache"
    assert case_costs.load(cache, "native", seed=seed) == CaseCosts(seconds={"x/y::b": 3.0},
                                                                  cpu_share={"x/y::a": 0.9, "x/y::b": 0.4})
    ran = ScenarioResult("a", Outcome.PASSED, seconds=1.5, observed={"process_seconds": 1.0, "process_cpu_seconds": 0.1})
    case_costs.record(cache, "native", {"x/y": {"a": ran}})
    mine = case_costs.load(cache, "native", seed=seed)
    assert mine.cpu_share == {"x/y::a": 0.1, "x/y::b": 0.4} and mine.seconds == {"x/y::a": 1.5, "x/y::b": 3.0}
    # The seed is written from the machine's file, beside the examples, for theirs only.
    examples = tmp_path / "examples"
    (examples / "x" / "y").mkdir(parents=True)
    (examples / "x" / "y" / "example.yaml").write_text("id: x/y\n")
    case_costs.record(cache, "native", {"bad/one": {"a": ran}})
    assert case_costs.write_seed(cache, examples) == 2
    written = examples / case_costs.SEED_NAME
    assert "bad/one" not in written.read_text()
    assert case_costs.of_run(tmp_path / "empty", examples, "native").seconds == {"x/y::a": 1.5}


def test_the_shipped_costs_cover_every_example_of_the_project() -> None:
    shipped = case_costs.of_run(Path("/nonexistent"), REPO / "examples", "native")
    ids = {str(m.parent.relative_to(REPO / "examples")) for m in (REPO / "examples").glob("*/*/example.yaml")}
    assert ids and ids <= {k.split("::", 1)[0] for k in shipped.cpu_share}, "python -m harness.case_costs writes them"


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
        ' "critical_path": {"bound_s": 30.0, "longest_case": "java/hikaricp::pool_idle_timeout", "longest_case_s": 11.0,'
        ' "exclusive_s": 6.0, "cpu_work_per_core_s": 24.0}}},'
        ' "goals": [["native warm default run <= 45 s", false, "50.0 s"]], "repeat": 3}')
    section = benchmark_section(read_benchmark(tmp_path))
    assert "NOT MET" in section and "50 s" in section and "49, 50, 55" in section and "java/hikaricp::pool_idle_timeout" in section


def _gate_case(gate: CaseGate, order: list[str], name: str, hold: threading.Event | None = None) -> threading.Thread:
    """A thread that enters the gate as case x::<name>, notes that it got in, and (given `hold`)
    stays in until it is set."""
    def case() -> None:
        with gate.shared(f"x::{name}"):
            order.append(name)
            if hold is not None:
                hold.wait(10)

    thread = threading.Thread(target=case)
    thread.start()
    return thread


def test_the_gate_admits_in_arrival_order_so_light_cases_cannot_starve_a_heavy_one() -> None:
    gate = CaseGate()
    gate.limit_cpu(1.0, {"x::heavy": 1.0, "x::light": 0.3})
    order: list[str] = []
    release_first = threading.Event()
    first = _gate_case(gate, order, "light", release_first)
    while not order:
        time.sleep(0.01)
    heavy = _gate_case(gate, order, "heavy")
    time.sleep(0.1)   # the heavy case waits: 0.3 + 1.0 is over the budget
    late = _gate_case(gate, order, "light")
    time.sleep(0.1)
    assert order == ["light"], "the late light case fits, but must not pass the heavy one waiting before it"
    release_first.set()
    for thread in (first, heavy, late):
        thread.join(5)
    assert order == ["light", "heavy", "light"]


def test_no_two_cases_that_can_run_at_once_share_a_database_name() -> None:
    names = {database_name("java/hikaricp", case_key("story_pause_resume_cutover", topology), role)
             for topology in ("direct", "pgbouncer-transaction", "pgbouncer-transaction+prepareThreshold=0")
             for role in (0, 1, 2)}
    assert len(names) == 9 and all(len(n) <= 63 for n in names)


def test_the_benchmark_judges_the_test_command_by_what_ci_test_sh_recorded() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("benchmark_script", REPO / "ci" / "benchmark.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    goal, met, why = script.test_command_goal(None)
    assert goal == "test command (bash ci/test.sh) <= 180 s" and not met and "run `bash ci/test.sh`" in why
    recorded = {"finished": "2026-12-02 09:00 UTC", "wall_s": 265, "matrix_s": 81, "tests_s": 184, "cpu_s": 430.0,
                "cores": 2, "workers": 4, "exit": {"matrix": 0, "tests": 0}}
    _, met, why = script.test_command_goal(recorded)
    assert not met and why.startswith("265 s on 2026-12-02 09:00 UTC") and "at least 215 s" in why
    _, met, _ = script.test_command_goal({**recorded, "wall_s": 170})
    assert met
    _, met, why = script.test_command_goal({**recorded, "wall_s": 170, "exit": {"matrix": 1, "tests": 0}})
    assert not met and "FAILED" in why


def test_a_case_that_ends_before_the_first_in_line_could_start_backfills_and_a_longer_one_waits() -> None:
    gate = CaseGate()
    gate.limit_cpu(1.0, {"x::story": 0.6, "x::heavy": 1.0, "x::short": 0.3, "x::long": 0.3},
                   {"x::story": 3.0, "x::heavy": 1.0, "x::short": 0.2, "x::long": 30.0})
    order: list[str] = []
    story_ends = threading.Event()
    threads = {"story": _gate_case(gate, order, "story", story_ends)}
    while not order:
        time.sleep(0.01)
    for name in ("heavy", "short", "long"):   # in this order in line; heavy does not fit beside the story
        threads[name] = _gate_case(gate, order, name)
        time.sleep(0.1)
    assert order == ["story", "short"], "short ends before the story frees the heavy case's room: it backfills; " \
                                        "long would not end by then, and waits in line"
    story_ends.set()
    for thread in threads.values():
        thread.join(5)
    assert order == ["story", "short", "heavy", "long"]


def test_while_a_case_waits_in_line_workers_are_handed_only_cases_that_backfill() -> None:
    # A story holds 0.6 of the one core; the heavy case next in order does not fit beside it and
    # waits in line. The next worker skips the medium case (it does not fit either) and takes the
    # short one from the end of the order, which ends long before the story does.
    examples = {name: FakeExample(f"x/{name}", (name,)) for name in ("story", "heavy", "medium", "short")}
    seconds = {"story": 10.0, "heavy": 5.0, "medium": 4.0, "short": 0.2}
    gate = CaseGate()
    gate.limit_cpu(1.0, {"x/story::story": 0.6, "x/heavy::heavy": 1.0, "x/medium::medium": 0.5,
                         "x/short::short": 0.3}, {f"x/{n}::{n}": s for n, s in seconds.items()})
    cases = [Case(e, n, "direct", seconds[n], exclusive=False) for n, e in examples.items()]  # type: ignore[arg-type]
    queue = CaseQueue(cases, {e.id: 1 for e in examples.values()}, gate)
    started: list[str] = []
    story_ends = threading.Event()

    def run(case: Case, _role: int) -> bool:
        with gate.shared(f"{case.example.id}::{case.name}"):
            started.append(case.name)
            if case.name == "story":
                story_ends.wait(10)
        return True

    runner = threading.Thread(target=work_through, args=(queue, 3, run))
    runner.start()
    deadline = time.monotonic() + 5
    while "short" not in started and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert started == ["story", "short"], "only the short case may pass the heavy one waiting in line"
    story_ends.set()
    runner.join(10)
    assert started == ["story", "short", "heavy", "medium"]


@contextmanager
def _interrupted_after(seconds: float) -> Iterator[None]:
    """A Ctrl-C reaches this (the main) thread `seconds` from now, as the CLI's handler raises it."""
    def as_ctrl_c(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt("test")

    previous = signal.signal(signal.SIGUSR2, as_ctrl_c)
    timer = threading.Timer(seconds, signal.pthread_kill, (threading.main_thread().ident, signal.SIGUSR2))
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR2, previous)
        allow_starts()   # the interrupt refused new processes in this whole (test) process


def test_an_interrupt_ends_the_run_and_no_case_waiting_in_line_starts() -> None:
    # The story fills the one core until its process is ended (interrupt_all); the heavy case
    # and a housekeeping job wait in line behind it, and must never get their turn.
    examples = {name: FakeExample(f"x/{name}", (name,)) for name in ("story", "heavy")}
    gate = CaseGate()
    gate.limit_cpu(1.0, {"x/story::story": 1.0, "x/heavy::heavy": 1.0}, {"x/story::story": 60.0, "x/heavy::heavy": 5.0})
    cases = [Case(e, n, "direct", 1.0, exclusive=False) for n, e in examples.items()]  # type: ignore[arg-type]
    started: list[str] = []
    housekeeping: list[BaseException] = []

    def run(case: Case, _role: int) -> bool:
        with gate.shared(f"{case.example.id}::{case.name}"):
            started.append(case.name)
            while case.name == "story" and not starts_refused():   # its process, until the interrupt ends it
                time.sleep(0.01)
        return True

    def spare_database() -> None:
        try:
            with gate.shared("harness::spare", weight=0.15, seconds=0.5):
                started.append("spare")
        except BaseException as exc:  # noqa: BLE001 - what the test looks at
            housekeeping.append(exc)

    clock = time.monotonic()
    with _interrupted_after(0.5), pytest.raises(KeyboardInterrupt):
        threading.Thread(target=lambda: (time.sleep(0.2), spare_database())).start()
        work_through(CaseQueue(cases, {e.id: 1 for e in examples.values()}, gate), 2, run)
    assert time.monotonic() - clock < 5
    assert started == ["story"]
    deadline = time.monotonic() + 2
    while not housekeeping and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [type(exc) for exc in housekeeping] == [GateClosed]


def test_workers_still_busy_after_an_interrupt_are_named_with_their_stacks(monkeypatch: pytest.MonkeyPatch,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(schedule, "STOP_WORKERS_SECONDS", 0.3)
    let_go = threading.Event()

    def ignores_the_interrupt(case: Case, _role: int) -> bool:
        let_go.wait(10)
        return True

    cases = [Case(FakeExample("x/deaf", ("deaf",)), "deaf", "direct", 1.0, exclusive=False)]  # type: ignore[arg-type]
    try:
        with _interrupted_after(0.2), pytest.raises(KeyboardInterrupt):
            work_through(CaseQueue(cases, {"x/deaf": 1}), 1, ignores_the_interrupt)
    finally:
        let_go.set()
    report = capsys.readouterr().err
    assert "1 thread(s) still busy 0 s after the interrupt" in report, report
    assert "-- case-worker-1" in report and "in ignores_the_interrupt" in report, report


def test_closing_the_gate_lets_the_spare_database_thread_go_at_once() -> None:
    gate = CaseGate()
    restart_done = threading.Event()
    in_restart = threading.Event()

    def restart() -> None:
        with gate.exclusive():
            in_restart.set()
            restart_done.wait(10)

    threading.Thread(target=restart).start()
    in_restart.wait(5)
    made: list[str] = []
    spares = SpareDatabases(made.append, made.append, ready=1,
                            hold=lambda: gate.enter(False, "harness::spare database", weight=0.15, seconds=0.5))
    try:
        assert spares.take() is None   # the thread starts, and waits for the restart to end
        time.sleep(0.1)
        gate.close()
        clock = time.monotonic()
        spares.close()
        assert time.monotonic() - clock < 1.0
        assert made == []
    finally:
        restart_done.set()
