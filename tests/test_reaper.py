"""A run killed outright (SIGKILL) leaves its server and temp dir; the next run finds them by
their owner.json (the owner is dead) and removes them, saying what it reaped. Runs alive on
this machine are never touched. A second Ctrl-C during the clean-up does not cut it short."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import reaper
from tests.support import BAD_EXAMPLES, REPO, IsolatedRuns, lock_released_within, process_alive


@pytest.fixture
def parent(isolated_runs: IsolatedRuns) -> Path:
    """A temp parent of the test's own (other runs on this machine do not count); whatever a
    failed test leaves in it goes at teardown."""
    return isolated_runs.parent


def _start_run(runs: IsolatedRuns, tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path]:
    state = tmp_path / "state"
    state.mkdir()
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(state), BAD_EXAMPLE_PYTHON=sys.executable)
    proc = runs.start([sys.executable, "-m", "harness", "run", "--example", "slow/run",
                       "--out", str(tmp_path / "out"), *extra], env)
    deadline = time.monotonic() + 90
    while not (state / "run.pid").exists():
        assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")
        assert time.monotonic() < deadline, "the case never started"
        time.sleep(0.05)
    return proc, state


def test_after_a_sigkill_the_next_run_reaps_what_the_dead_run_left(parent: Path, tmp_path: Path,
                                                                   isolated_runs: IsolatedRuns) -> None:
    proc, state = _start_run(isolated_runs, tmp_path)
    left = sorted(parent.iterdir())
    server_root = next(d for d in left if (d / "data").is_dir())
    postmaster = int((server_root / "data" / "postmaster.pid").read_text().split()[0])
    proc.kill()
    proc.wait()
    # The example died with the harness (its namespace is tied to it); the server did not.
    assert lock_released_within(state / "run.lock", 10) and lock_released_within(state / "run-child.lock", 10)
    assert process_alive(postmaster) and server_root.exists()
    owner = json.loads((server_root / reaper.OWNER_FILE).read_text())
    assert owner["pid"] == proc.pid

    reaped = reaper.reap_dead_runs(parent)
    text = "\n".join(reaped)
    assert f"postmaster pid {postmaster}" in text, text
    assert str(server_root) in text
    assert list(parent.iterdir()) == [], list(parent.iterdir())
    deadline = time.monotonic() + 10
    while process_alive(postmaster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(postmaster)


def test_a_killed_runs_native_pgbouncer_is_reaped_too(parent: Path, tmp_path: Path,
                                                      isolated_runs: IsolatedRuns) -> None:
    proc, _state = _start_run(isolated_runs, tmp_path, "--via", "pgbouncer-session")
    pooler_root = next(d for d in parent.iterdir() if (d / "pgbouncer.ini").exists())
    pids = reaper.processes_running(pooler_root / "pgbouncer.ini")
    assert pids, "PgBouncer is not running with the run's ini"
    proc.kill()
    proc.wait()
    assert all(process_alive(pid) for pid in pids)   # a SIGKILLed harness stops nothing itself
    text = "\n".join(reaper.reap_dead_runs(parent))
    assert "PgBouncer pid" in text and str(pooler_root) in text, text
    deadline = time.monotonic() + 10
    while any(process_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(process_alive(pid) for pid in pids)
    assert list(parent.iterdir()) == [], list(parent.iterdir())


def test_the_next_cli_run_prints_what_it_reaped(parent: Path, tmp_path: Path) -> None:
    victim = parent / f"{reaper.RUN_PREFIX}dead-run"
    victim.mkdir()
    sleeper = subprocess.Popen(["sleep", "300"], env=dict(os.environ, **{reaper.MARKER_VARIABLE: "dead-marker"}))
    # The owner: a process that has exited (its pid is not reused this fast; its start time would differ).
    gone = subprocess.Popen(["true"])
    gone.wait()
    (victim / reaper.OWNER_FILE).write_text(json.dumps({"pid": gone.pid, "start": 1, "marker": "dead-marker"}))
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(tmp_path), BAD_EXAMPLE_PYTHON=sys.executable, TMPDIR=str(parent))
    ran = subprocess.run([sys.executable, "-m", "harness", "run", "--example", "good/reference", "--scenario",
                          "connect_now", "--out", str(tmp_path / "out")], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"reaped run of dead pid {gone.pid}" in ran.stderr, ran.stderr
    assert "sleep 300" in ran.stderr and str(victim) in ran.stderr
    assert sleeper.wait(timeout=10) == -signal.SIGKILL
    assert list(parent.iterdir()) == []


def test_a_live_runs_directory_is_never_reaped(parent: Path) -> None:
    live = parent / f"{reaper.RUN_PREFIX}live-run"
    live.mkdir()
    reaper.record_owner(live)  # this test process: alive
    try:
        assert reaper.reap_dead_runs(parent) == []
        assert live.exists()
    finally:
        (live / reaper.OWNER_FILE).unlink()
        live.rmdir()
        reaper.forget(live)


def test_a_second_ctrl_c_during_clean_up_still_removes_everything(parent: Path, tmp_path: Path,
                                                                  isolated_runs: IsolatedRuns) -> None:
    proc, state = _start_run(isolated_runs, tmp_path)
    proc.send_signal(signal.SIGINT)
    for _ in range(20):  # keep pressing Ctrl-C while the harness stops the server
        time.sleep(0.05)
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGINT)
    output = isolated_runs.finish(proc)
    text = output.decode(errors="replace")
    assert proc.returncode == 2, text
    assert "interrupted: the server and every process of the run were stopped" in text, text
    assert list(parent.iterdir()) == [], f"left behind: {list(parent.iterdir())}\n{text}"
    assert lock_released_within(state / "run-child.lock")
