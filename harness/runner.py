"""The run as a pipeline: select cases -> build -> run each case -> collect a RunResult.
Each step is a plain function; the CLI adds a progress display through the callbacks."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.errors import ServerDied
from harness.manifest import Example
from harness.outcome import ExampleResult, Outcome, RunResult, ScenarioResult
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


def run_matrix(session: HarnessSession, plan: Iterable[tuple[Example, list[str]]],
               on_case: CaseCallback | None = None, on_build: BuildCallback | None = None) -> RunResult:
    start = time.monotonic()
    run = RunResult(backend=session.options.backend, postgres="")
    run.errors += [error.render() for error in session.discovery.errors]
    for example, names in plan:
        result = ExampleResult(example.id, example.language, example.driver)
        if on_build:
            on_build(example, "start")
        session.prepare_example(example)
        build = session.builds.get(example.id)
        if build is not None:
            result.build_seconds, result.build_cached = build.seconds, build.cached
        if on_build:
            on_build(example, "done")
        for name in names:
            if on_case:
                on_case(example, name, None)
            try:
                case = session.run_case(example, name)
            except ServerDied as exc:
                # Every later case would fail for the same reason: stop with one clear error.
                run.errors.append(f"{example.id}::{name}: {exc}")
                result.settle()
                run.examples.append(result)
                run.postgres = session.postgres_version
                run.seconds = time.monotonic() - start
                return run
            result.scenarios.append(case)
            if on_case:
                on_case(example, name, case)
        if example.id in session.missing:
            result.outcome = Outcome.FAILED
            result.reason = "toolchain missing: " + "; ".join(s.line for s in session.missing[example.id])
        result.settle()
        run.examples.append(result)
    run.postgres = session.postgres_version
    run.seconds = time.monotonic() - start
    return run
