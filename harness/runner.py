"""The run as a pipeline: select cases -> build -> run each case -> collect a RunResult.
Each step is a plain function; the CLI adds a progress display through the callbacks."""

from __future__ import annotations

import fnmatch
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.errors import HarnessError, ServerDied
from harness.manifest import Example
from harness.outcome import ExampleResult, Outcome, RunResult, ScenarioResult
from harness.probe import ProbeError
from harness.session import HarnessSession


@dataclass(frozen=True)
class Selection:
    examples: tuple[str, ...] = ()     # ids or glob patterns (node/*)
    scenarios: tuple[str, ...] = ()    # names or glob patterns (pool_*)
    keyword: str = ""                  # substring of "<id>::<scenario>"

    def wants_example(self, example: Example) -> bool:
        return not self.examples or any(fnmatch.fnmatch(example.id, p) or example.language == p for p in self.examples)

    def wants_case(self, example: Example, scenario: str) -> bool:
        if self.scenarios and not any(fnmatch.fnmatch(scenario, p) for p in self.scenarios):
            return False
        return not self.keyword or self.keyword in f"{example.id}::{scenario}"


def planned_cases(session: HarnessSession, selection: Selection) -> list[tuple[Example, list[str]]]:
    plan = []
    for example in session.examples:
        if not selection.wants_example(example):
            continue
        names = [n for n in session.spec.names if selection.wants_case(example, n)]
        if names:
            plan.append((example, names))
    return plan


CaseCallback = Callable[[Example, str, ScenarioResult | None], None]
BuildCallback = Callable[[Example, str], None]


def _run_example(session: HarnessSession, example: Example, names: list[str], stop: "threading.Event",
                 on_case: CaseCallback | None, on_build: BuildCallback | None) -> tuple[ExampleResult, str]:
    """One example's cases, in order. Returns its result and a run-level error (or "")."""
    result = ExampleResult(example.id, example.language, example.driver)
    if on_build:
        on_build(example, "start")
    session.prepare_example(example)
    build = session.builds.get(example.id)
    if build is not None:
        result.build_seconds, result.build_cached = build.seconds, build.cached
    if on_build:
        on_build(example, "done")
    error = ""
    for name in names:
        if stop.is_set():
            break
        if on_case:
            on_case(example, name, None)
        try:
            case = session.run_case(example, name)
        except ServerDied as exc:
            # Every later case would fail for the same reason: stop with one clear error.
            stop.set()
            error = f"{example.id}::{name}: {exc}"
            break
        result.scenarios.append(case)
        if on_case:
            on_case(example, name, case)
    if example.id in session.missing:
        result.outcome = Outcome.FAILED
        result.reason = "toolchain missing: " + "; ".join(s.line for s in session.missing[example.id])
    result.settle()
    return result, error


def run_matrix(session: HarnessSession, plan: Iterable[tuple[Example, list[str]]],
               on_case: CaseCallback | None = None, on_build: BuildCallback | None = None,
               jobs: int = 1) -> RunResult:
    """Examples run `jobs` at a time; an example's own cases always run in order, one at a time
    (they share its role, whose connection limit a case may change)."""
    start = time.monotonic()
    run = RunResult(backend=session.options.backend, postgres="")
    run.errors += [error.render() for error in session.discovery.errors]
    plan = list(plan)
    stop = threading.Event()
    if jobs > 1 and len(plan) > 1:
        session.start()  # once, before the threads
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="example") as pool:
            futures = [pool.submit(_run_example, session, e, n, stop, on_case, on_build) for e, n in plan]
            outcomes = [f.result() for f in futures]
    else:
        outcomes = []
        for example, names in plan:
            outcomes.append(_run_example(session, example, names, stop, on_case, on_build))
            if stop.is_set():
                break
    for result, error in outcomes:
        run.examples.append(result)
        if error:
            run.errors.append(error)
    run.postgres = session.postgres_version
    run.seconds = time.monotonic() - start
    return run


def wants_probe(session: HarnessSession, plan: Iterable[tuple[Example, list[str]]]) -> bool:
    """The probe belongs to the lifecycle group: it runs when the selection holds one of its cases."""
    return any(session.spec.scenarios[name].group == "lifecycle" for _, names in plan for name in names)


def add_lifecycle_probe(session: HarnessSession, run: RunResult) -> None:
    """Times the connection steps on the run's server; a probe that cannot connect is a run error."""
    try:
        run.lifecycle_probe = session.lifecycle_probe()
    except (ProbeError, OSError, HarnessError) as exc:
        run.errors.append(f"lifecycle probe: {type(exc).__name__}: {exc}")
