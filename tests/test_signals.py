"""Ctrl-C (SIGINT) and SIGTERM during server start-up, during a build and during a scenario
leave nothing behind: no postgres, no example process or child, no temp dir. Each test runs the
real CLI as a subprocess, waits for the phase, sends the signal, and counts what is left."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.server.native import TEMP_PREFIX
from tests.support import BAD_EXAMPLES, REPO, lock_released_within, process_alive

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


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return [p for p in pids if process_alive(p)]


def _wait_for(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the run never reached the phase")
        time.sleep(0.01)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_a_signal_leaves_nothing_behind(phase: str, signum: int, tmp_path: Path) -> None:
    example, marker, flags = PHASES[phase]
    state = tmp_path / "state"
    state.mkdir()
    # The run's temp dirs go to a parent of their own, so other runs on the machine do not count;
    # it must be traversable by the `postgres` account the server runs as.
    parent = Path(tempfile.mkdtemp(prefix="harness-signal-test-"))
    parent.chmod(0o755)
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(state), BAD_EXAMPLE_PYTHON=sys.executable, TMPDIR=str(parent))
    before = _server_dirs(parent)
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", "--example", example, *flags,
                             "--out", str(tmp_path / "results.json")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if marker is None:
            _wait_for(lambda: bool(_server_dirs(parent) - before))
        else:
            _wait_for(lambda: (state / marker).exists() and (state / marker).read_text().strip() != "")
        new_dirs = _server_dirs(parent) - before
        if phase == "cutover-scenario":   # both servers and PgBouncer are up
            assert len(new_dirs) >= 3, new_dirs
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = output.decode(errors="replace")
    assert proc.returncode == 2, text  # interrupted
    assert "interrupted" in text, text
    for directory in new_dirs:
        assert not Path(directory).exists(), f"{directory} is left behind"
        assert _processes_mentioning(directory) == [], f"processes of {directory} still run"
    for name in ("build", "run", "run-child"):
        # Each holds <name>.lock while it lives (its pid is one of its PID namespace's).
        lock = state / f"{name}.lock"
        if lock.exists():
            assert lock_released_within(lock), f"{name} still runs after the {signal.Signals(signum).name}"
    assert list(parent.iterdir()) == [], f"left in the run's temp parent: {list(parent.iterdir())}"
    parent.rmdir()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_pytest_stops_the_server_too(signum: int, tmp_path: Path) -> None:
    """Under pytest, SIGTERM and SIGHUP end the session like Ctrl-C: the server and the case go."""
    state = tmp_path / "state"
    state.mkdir()
    parent = Path(tempfile.mkdtemp(prefix="harness-signal-test-"))
    parent.chmod(0o755)
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(state), BAD_EXAMPLE_PYTHON=sys.executable, TMPDIR=str(parent))
    proc = subprocess.Popen([sys.executable, "-m", "pytest", str(BAD_EXAMPLES / "slow" / "run"), "-p", "no:cacheprovider",
                             "--harness-out", str(tmp_path / "out" / "results.json")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: (state / "run.pid").exists())
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = output.decode(errors="replace")
    assert proc.returncode == 2, text  # pytest's "interrupted"
    assert lock_released_within(state / "run.lock") and lock_released_within(state / "run-child.lock")
    assert list(parent.iterdir()) == [], f"left in the run's temp parent: {list(parent.iterdir())}\n{text}"
    parent.rmdir()
