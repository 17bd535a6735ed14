"""Helpers of the harness's own tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

from harness.case.pipeline import run_case
from harness.config import Config, ProjectPaths, build_config
from harness.manifest import Example
from harness.outcome import ScenarioResult
from harness.session import HarnessSession

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "spec"
BAD_EXAMPLES = Path(__file__).resolve().parent / "bad_examples"


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
