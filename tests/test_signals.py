"""Ctrl-C (SIGINT) and SIGTERM during server start-up, during a build and during a scenario
leave nothing behind: no postgres, no example process or child, no temp dir. Each test runs the
real CLI as a subprocess, waits for the phase, sends the signal, and counts what is left. A test
that fails leaves nothing either: the isolated_runs fixture reaps its run at teardown."""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import case_costs
from harness.server.native import TEMP_PREFIX
from tests.support import BAD_EXAMPLES, IsolatedRuns, lock_released_within, processes_mentioning

PHASES = {
    # phase: (example to run, what shows the phase has begun, extra flags)
    "startup": ("slow/run", None, ()),
    "build": ("slow/building", "build.pid", ()),
    "scenario": ("slow/run", "run.pid", ()),
    # the case runs through a PgBouncer the harness started: it goes too, with its dir
    "pooled-scenario": ("slow/run", "run.pid", ("--via", "pgbouncer-transaction")),
    # the cutover story's second server is running too (started before the example): it goes as well
    "cutover-scenario": ("slow/run", "run.pid", ("--via", "pgbouncer-transaction", "--scenario", "story_pause_resume_cutover")),
    # two examples at once: the signal reaches only the main thread, which ends the workers' cases
    "parallel-scenario": ("slow/run", "run.pid", ("--example", "good/reference", "-j", "4")),
}


def _server_dirs(parent: Path) -> set[str]:
    return set(glob.glob(os.path.join(parent, TEMP_PREFIX + "*")))


def _wait_for(condition, proc: subprocess.Popen[bytes], seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if proc.poll() is not None:
            output = proc.communicate()[0].decode(errors="replace")
            raise AssertionError(f"the run ended (exit {proc.returncode}) before the phase:\n{output[-6000:]}")
        if time.monotonic() > deadline:
            raise AssertionError("the run never reached the phase")
        time.sleep(0.01)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_a_signal_leaves_nothing_behind(phase: str, signum: int, tmp_path: Path,
                                        isolated_runs: IsolatedRuns) -> None:
    example, marker, flags = PHASES[phase]
    state = tmp_path / "state"
    state.mkdir()
    # The run's temp dirs go to a parent of their own, so other runs on the machine do not count.
    parent = isolated_runs.parent
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(state), BAD_EXAMPLE_PYTHON=sys.executable)
    if phase == "parallel-scenario":
        # Known to take a minute, the slow case starts first and the reference's run beside it
        # (unknown, it would start only after them all).
        cache = tmp_path / "cache"
        cache.mkdir()
        (cache / case_costs.FILE_NAME).write_text(json.dumps({"seconds:native": {
            case_costs.key("slow/run", "connect_now"): 60.0}}))
    before = _server_dirs(parent)
    proc = isolated_runs.start([sys.executable, "-m", "harness", "run", "--example", example, *flags,
                                "--out", str(tmp_path / "results.json")], env)
    if marker is None:
        _wait_for(lambda: bool(_server_dirs(parent) - before), proc)
    else:
        _wait_for(lambda: (state / marker).exists() and (state / marker).read_text().strip() != "", proc)
    new_dirs = _server_dirs(parent) - before
    if phase == "cutover-scenario":   # both servers and PgBouncer are up
        assert len(new_dirs) >= 3, new_dirs
    proc.send_signal(signum)
    output = isolated_runs.finish(proc)
    text = output.decode(errors="replace")
    assert proc.returncode == 2, text  # interrupted
    assert "interrupted" in text, text
    for directory in new_dirs:
        assert not Path(directory).exists(), f"{directory} is left behind"
        assert processes_mentioning(directory) == [], f"processes of {directory} still run"
    for name in ("build", "run", "run-child"):
        # Each holds <name>.lock while it lives (its pid is one of its PID namespace's).
        lock = state / f"{name}.lock"
        if lock.exists():
            assert lock_released_within(lock), f"{name} still runs after the {signal.Signals(signum).name}"
    left = sorted(str(path.relative_to(parent)) for path in parent.rglob("*"))
    assert left == [], f"left in the run's temp parent: {left}\n{text[-3000:]}"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_pytest_stops_the_server_too(signum: int, tmp_path: Path, isolated_runs: IsolatedRuns) -> None:
    """Under pytest, SIGTERM and SIGHUP end the session like Ctrl-C: the server and the case go."""
    state = tmp_path / "state"
    state.mkdir()
    parent = isolated_runs.parent
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(state), BAD_EXAMPLE_PYTHON=sys.executable)
    proc = isolated_runs.start([sys.executable, "-m", "pytest", str(BAD_EXAMPLES / "slow" / "run"), "-p",
                                "no:cacheprovider", "--harness-out", str(tmp_path / "out" / "results.json")], env)
    _wait_for(lambda: (state / "run.pid").exists(), proc)
    proc.send_signal(signum)
    output = isolated_runs.finish(proc)
    text = output.decode(errors="replace")
    assert proc.returncode == 2, text  # pytest's "interrupted"
    assert lock_released_within(state / "run.lock") and lock_released_within(state / "run-child.lock")
    assert list(parent.iterdir()) == [], f"left in the run's temp parent: {list(parent.iterdir())}\n{text}"
