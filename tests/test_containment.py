"""Nothing an example starts outlives its case, and every case ends within its timeout plus a
few seconds whatever the example does (hostile examples under bad_examples/hostile)."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

import psycopg

from harness.outcome import Outcome
from harness.process import run_process
from harness.reaper import processes_with_marker
from harness.sandbox import CASE_MARKER_VARIABLE, CaseSandbox, Sandbox, namespace_flags
from tests.support import BadRun, problems_of


def _role_backends(bad: BadRun, role: str) -> list[tuple[int, str]]:
    assert bad.session.server is not None
    with psycopg.connect(bad.session.server.admin_conninfo(), autocommit=True) as conn:
        return conn.execute("SELECT pid, datname FROM pg_stat_activity WHERE usename = %s", [role]).fetchall()


def test_cases_run_in_a_pid_namespace_here() -> None:
    # The machines this runs on are root with util-linux: the fallback would be a regression.
    flags, why_not = namespace_flags()
    assert flags is not None, why_not


def test_a_double_forked_daemon_dies_with_its_case_and_fails_it(bad: BadRun) -> None:
    start = time.monotonic()
    result = bad.case("hostile/daemon", "connect_now")
    assert time.monotonic() - start < 20, "the daemon's open stdout held the case"
    assert result.outcome is Outcome.FAILED
    assert problems_of(result)[0].startswith("left 1 process(es) running after it exited (killed by the harness)")
    # The daemon held this lock while it lived: the lock is free now, so it is dead.
    with open(bad.state_dir / "daemon.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert _role_backends(bad, "ex_hostile_daemon") == []


def test_a_backend_left_open_is_terminated_and_named(bad: BadRun) -> None:
    result = bad.case("hostile/backend-leaver", "connect_now")
    assert result.outcome is Outcome.FAILED
    problem = problems_of(result)[0]
    assert problem.startswith("left 1 database connection(s) open after it exited (terminated by the harness)")
    assert "database postgres" in problem and "pg_sleep(600)" in problem
    deadline = time.monotonic() + 5
    while _role_backends(bad, "ex_hostile_backend_leaver") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _role_backends(bad, "ex_hostile_backend_leaver") == []


def test_a_checkpoint_flood_that_never_reads_stdin_still_times_out(bad: BadRun) -> None:
    start = time.monotonic()
    result = bad.case("hostile/stdin-flood", "connect_now")
    elapsed = time.monotonic() - start
    assert result.outcome is Outcome.FAILED
    assert result.message == "timed out after 3 s; its process group was killed"
    assert elapsed < 3 + 6, f"the case took {elapsed:.1f} s for a 3 s timeout"


def test_a_daemon_holding_stdout_does_not_hold_the_case_without_a_namespace(tmp_path: Path) -> None:
    """The fallback (no namespace): the daemon keeps stdout open, the case ends ~1 s after the
    example's own exit, and the environment marker finds and kills the daemon."""
    sandbox = CaseSandbox(None, "run-marker", tmp_path / "report.json")
    start = time.monotonic()
    run = run_process(["sh", "-c", "setsid sleep 300 & echo started >&2"], tmp_path, os.environ, 30, confine=sandbox)
    assert time.monotonic() - start < 5
    assert run.stdout_held
    assert len(run.leftovers) == 1 and "sleep 300" in run.leftovers[0], run.leftovers
    assert processes_with_marker(sandbox.marker, CASE_MARKER_VARIABLE) == []


def test_the_fallback_is_said_once_per_run() -> None:
    namespace_flags.cache_clear()
    try:
        sandbox = Sandbox(disabled=True)   # HARNESS_SANDBOX=none, as the native backend reads it from the Config
        first, second = sandbox.notice(), sandbox.notice()
        assert "no PID namespace for the cases (HARNESS_SANDBOX=none)" in first
        assert second == ""
        sandbox.cleanup()
    finally:
        namespace_flags.cache_clear()


def test_the_examples_exit_code_comes_through_the_namespace(tmp_path: Path) -> None:
    sandbox = Sandbox()
    try:
        run = run_process([sys.executable, "-c", "import sys; sys.exit(7)"], tmp_path, os.environ, 30,
                          confine=sandbox.case())
        assert run.exit_code == 7
        killed = run_process([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"],
                             tmp_path, os.environ, 30, confine=sandbox.case())
        assert killed.exit_code == -11
    finally:
        sandbox.cleanup()


def test_without_namespaces_the_run_says_so_once_and_still_kills_the_daemon(tmp_path: Path) -> None:
    import json
    import subprocess

    from tests.support import BAD_EXAMPLES, REPO, lock_released_within

    state = tmp_path / "state"
    state.mkdir()
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(state), BAD_EXAMPLE_PYTHON=sys.executable, HARNESS_SANDBOX="none")
    ran = subprocess.run([sys.executable, "-m", "harness", "run", "--example", "hostile/daemon", "--example",
                          "good/reference", "--scenario", "connect_now", "--out", str(tmp_path / "out") + "/"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    text = ran.stdout + ran.stderr
    assert ran.returncode == 1, text
    assert text.count("note: no PID namespace for the cases (HARNESS_SANDBOX=none)") == 1, text
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    daemon = next(e for e in results["examples"] if e["id"] == "hostile/daemon")["scenarios"][0]
    assert daemon["outcome"] == "failed"
    assert daemon["message"].startswith("left 1 process(es) running after it exited (killed by the harness)"), daemon
    assert lock_released_within(state / "daemon.lock")
    assert "clean-up: nothing of this run is left" in text


def test_the_case_directory_goes_even_while_written_into_and_no_case_makes_it_again() -> None:
    """A case's PID 1 may still write its report as the run cleans up: the directory goes all the
    same. After a Ctrl-C a case thread still finishing starts no process, and makes no directory
    (perhaps after the clean-up); a session started again makes one as before."""
    import threading

    from harness.process import allow_starts, interrupt_all

    sandbox = Sandbox()
    directory = sandbox.case().report.parent
    stop = threading.Event()

    def writer() -> None:
        for i in range(40):   # 0.2 s of files appearing while the tree is removed
            if stop.is_set():
                return
            try:
                (directory / f"late-{i}.json").write_text("0 0.1\n")
            except OSError:
                return   # the directory is gone: nothing more to write into
            time.sleep(0.005)

    writing = threading.Thread(target=writer)
    writing.start()
    sandbox.cleanup()
    stop.set()
    writing.join()
    assert not directory.exists(), sorted(p.name for p in directory.iterdir())
    interrupt_all()
    try:
        late = sandbox.case()
        assert not late.report.parent.name.startswith("pg-harness-cases-"), late.report
        assert sandbox.cleanup() == [] and not late.report.exists()
    finally:
        allow_starts()
    again = sandbox.case().report.parent
    try:
        assert again.is_dir() and again != directory
    finally:
        sandbox.cleanup()
    assert not again.exists()


def test_a_connection_hog_gets_its_roles_share_only_and_is_told_so_by_name(bad: BadRun) -> None:
    """The hog tries 450 connections (more than max_connections) and holds what it gets while a
    well-behaved example runs beside it: the neighbour passes, and the hog's verdict names the limit."""
    import json
    import threading

    from harness.outcome import ScenarioResult

    (bad.state_dir / "hog.release").unlink(missing_ok=True)
    hog: list[ScenarioResult] = []
    running = threading.Thread(target=lambda: hog.append(bad.case("hostile/connection-hog", "connect_now")))
    running.start()
    try:
        deadline = time.monotonic() + 40
        while not (bad.state_dir / "hog.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        holding = json.loads((bad.state_dir / "hog.json").read_text())
        limit = bad.session.spec.fixture.limits.connections_per_role
        assert holding["held"] == limit, holding
        assert all("too many connections for role" in reason for reason in holding["refused"]), holding
        for scenario in ("connect_now", "select_rows"):
            neighbour = bad.case("good/reference", scenario)
            assert neighbour.outcome is Outcome.PASSED, (scenario, neighbour.message)
    finally:
        (bad.state_dir / "hog.release").write_text("1")
        running.join(timeout=90)
    assert hog and hog[0].outcome is Outcome.FAILED
    problem = problems_of(hog[0])[0]
    assert problem.startswith("hit its role's connection limit: the server refused 410 connection(s) with 53300"), problem
    assert f"at most {limit} connections" in problem and "limits.connections_per_role" in problem, problem


def test_the_roles_limits_come_from_the_spec_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    import pytest

    from harness.errors import InputError
    from harness.spec import load_fixture
    from tests.support import SPEC

    shipped = load_fixture(SPEC / "fixture.yaml").limits
    assert shipped.connections_per_role == 40 and shipped.settings()["statement_timeout"] == "60s"
    source = (SPEC / "fixture.yaml").read_text()
    for wrong, key in (("connections_per_role: 0", "limits.connections_per_role"),
                       ("connections_per_role: forty", "limits.connections_per_role"),
                       ("statement_timeouts: 60s", "limits.statement_timeouts")):
        (tmp_path / "fixture.yaml").write_text(source.replace("connections_per_role: 40", wrong))
        with pytest.raises(InputError) as raised:
            load_fixture(tmp_path / "fixture.yaml")
        assert raised.value.key == key, raised.value
    (tmp_path / "fixture.yaml").write_text(source.replace("statement_timeout: 60s", "statement_timeout: forever"))
    with pytest.raises(InputError, match="give a duration"):
        load_fixture(tmp_path / "fixture.yaml")
