"""Helpers of the harness's own tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import reaper, scratch
from harness.case.pipeline import run_case
from harness.config import Config, ProjectPaths, build_config
from harness.manifest import Example
from harness.outcome import ScenarioResult
from harness.session import HarnessSession

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "spec"
BAD_EXAMPLES = Path(__file__).resolve().parent / "bad_examples"
DUMP_STACKS_SIGNAL = signal.SIGUSR1   # harness/__main__.py prints every thread's stack on it


def config_for(examples: Path, work: Path, backend: str = "native") -> Config:
    """The configuration of a test's own run: its examples, the real spec, its own cache and reports."""
    paths = ProjectPaths(examples=examples, spec=SPEC, cache=work / "cache", reports=work / "reports")
    return replace(build_config({"backend": backend}), paths=paths)


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (dead, not yet reaped by its new parent) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def dies_within(pid: int, seconds: float = 2.0) -> bool:
    """kill_group returns once SIGKILL is sent; the process may take a few ms more to exit."""
    deadline = time.monotonic() + seconds
    while process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def lock_released_within(lock: Path, seconds: float = 3.0) -> bool:
    """True once nobody holds `lock` (the examples hold one while they live: tests/bad_examples/_lib.py)."""
    import fcntl
    deadline = time.monotonic() + seconds
    with open(lock, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.02)


class BadRun:
    """The shared session plus a way to run one case of a wrong example by its id."""

    def __init__(self, session: HarnessSession, state_dir: Path) -> None:
        self.session = session
        self.state_dir = state_dir

    def example(self, example_id: str) -> Example:
        for example in self.session.examples:
            if example.id == example_id:
                return example
        errors = "\n".join(e.render() for e in self.session.catalog.discovery.errors)
        raise AssertionError(f"{example_id} is not among the discovered examples\n{errors}")

    def case(self, example_id: str, scenario: str, topology: str = "direct") -> ScenarioResult:
        return run_case(self.session, self.example(example_id), scenario, topology)


def problems_of(result: ScenarioResult) -> list[str]:
    """Every problem of a failed case: the summary first, then the others."""
    assert result.failure is not None, f"{result.name} has no failure: {result.outcome} {result.message}"
    return [result.failure.summary, *result.failure.problems]


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (a path of the test's own)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                pids.append(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    return [p for p in pids if process_alive(p)]


class IsolatedRuns:
    """Harness CLI runs a test starts as subprocesses, with their temp dirs under a parent of the
    test's own (so that other runs on the machine do not count), and a teardown that removes
    whatever they leave even when the test failed half-way: each run's process group, then what
    the reaper finds of a dead run (its servers, its PgBouncer, its containers), then any process
    still naming the parent, then the parent itself."""

    def __init__(self, prefix: str) -> None:
        self.parent = Path(tempfile.mkdtemp(prefix=prefix, dir=scratch.parent()))   # where a run would go
        self.parent.chmod(0o755)   # traversable by the `postgres` account the server runs as
        self._procs: list[subprocess.Popen[Any]] = []

    def start(self, args: Sequence[str], env: Mapping[str, str], text: bool = False) -> subprocess.Popen[Any]:
        """The command (a harness CLI run) in a session of its own, so that the teardown can kill
        its whole process group; stdout and stderr in one pipe."""
        proc = subprocess.Popen(list(args), cwd=REPO, env={**env, "TMPDIR": str(self.parent)}, text=text,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self._procs.append(proc)
        return proc

    @staticmethod
    def finish(proc: subprocess.Popen[Any], timeout: float = 60.0) -> Any:
        """The run's output once it has exited; a run still there after `timeout` fails the test
        with every thread's stack (harness/__main__.py prints them on DUMP_STACKS_SIGNAL) and the output's end."""
        try:
            return proc.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:
            exited = proc.poll()
            if exited is None:
                os.kill(proc.pid, DUMP_STACKS_SIGNAL)
                time.sleep(2)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0]
            text = output.decode(errors="replace") if isinstance(output, bytes) else output
            what = ("had not exited; its threads and output" if exited is None else
                    f"had exited ({exited}), but a process it started still held its output; the output")
            raise AssertionError(f"{timeout:.0f} s later the run {what}:\n{text[-12000:]}") from None

    def close(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
                proc.communicate(timeout=30)
        try:
            reaper.reap_dead_runs(self.parent)
            for pid in processes_mentioning(str(self.parent)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        finally:
            subprocess.run(["rm", "-rf", str(self.parent)], check=False)
