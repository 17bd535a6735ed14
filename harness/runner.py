"""The run as a pipeline: select cases -> build -> run each case (harness.case) -> one RunResult.
The CLI and the pytest plugin both assemble their RunResult with assemble_run and write it with
harness.reporting.write_run; the CLI adds a progress display through the callbacks."""

from __future__ import annotations

import difflib
import fnmatch
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from harness import case_costs
from harness.case.judgement import Finding, judge
from harness.case.pipeline import run_case
from harness.catalog import Catalog
from harness.docs import samples_of
from harness.docs.site import current_commit
from harness.errors import HarnessError, InputError, ServerDied
from harness.manifest import Example
from harness.outcome import ExampleResult, RunResult, ScenarioResult
from harness.pooler import DIRECT_TOPOLOGY, Topology, case_key, topology as as_topology
from harness.pooler.fixes import snippets, topologies_for
from harness.probe import ProbeError, Target, measure_link, run_probe
from harness.scenarios import REGISTRY as CHECKS
from harness.schedule import Case, CaseQueue, case_seconds, cores, cpu_weights, expected_seconds, roles_for, work_through
from harness.session import HarnessSession

PROBE_SAMPLES = 30
LINK_PROBE_TIMEOUT_SECONDS = 120.0
PROBE_HOST_NAME = "localhost"  # the server certificate names it; /etc/hosts maps it to 127.0.0.1
PROBE_ROLE_OWNER = "harness/probe"  # its role: ex_harness_probe


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


    def check(self, catalog: Catalog) -> None:
        """InputError naming the first --example or --scenario that matches nothing, with the
        nearest ids; raised before anything (server, --out folder) is made."""
        examples = [e.id for e in catalog.examples] + sorted({e.language for e in catalog.examples})
        for flag, given, known in (("--example", self.examples, examples), ("--scenario", self.scenarios, catalog.spec.names)):
            for pattern in given:
                if not any(fnmatch.fnmatch(name, pattern) for name in known):
                    near = difflib.get_close_matches(pattern, known, n=3)
                    hint = f"did you mean {' or '.join(near)}? " if near else ""
                    raise InputError(flag, pattern, "matches nothing", f"{hint}(python -m harness list shows every id)")


Plan = list[tuple[Example, list[str]]]


def planned_cases(catalog: Catalog, selection: Selection) -> Plan:
    plan = []
    for example in catalog.examples:
        if not selection.wants_example(example):
            continue
        names = [n for n in catalog.spec.names if selection.wants_case(example, n)]
        if names:
            plan.append((example, names))
    return plan


CaseCallback = Callable[[Example, str, ScenarioResult | None], None]
BuildCallback = Callable[[Example, str], None]


def now() -> datetime:
    return datetime.now(timezone.utc)


def with_fixes(session: HarnessSession, example: Example) -> list[Topology]:
    """The run's topologies for this example, each followed by its driver fixes' (spec/pgbouncer.yaml)."""
    return topologies_for(session.config.paths.spec, session.config.via, example.id, session.config.paths.examples)


def _one_case(session: HarnessSession, example: Example, name: str, topology: Topology, role: int, clock: float,
              on_case: CaseCallback | None) -> ScenarioResult:
    """One case, placed on the run's timeline (seconds after `clock`, the matrix's start).
    Raises ServerDied."""
    key = case_key(name, topology)
    if on_case:
        on_case(example, key, None)
    asked = time.monotonic()
    result = run_case(session, example, name, topology, role)
    result = replace(result, started=(result.started or asked) - clock)
    if on_case:
        on_case(example, key, result)
    return result


def _run_example(session: HarnessSession, example: Example, names: list[str], stop: threading.Event,
                 on_case: CaseCallback | None, on_build: BuildCallback | None,
                 clock: float, only: set[str] | None = None) -> tuple[dict[str, ScenarioResult], str]:
    """One example's cases, in spec order: its results by case, and a run-level error (or "")."""
    if on_build:
        on_build(example, "start")
    session.prepare_example(example)
    if on_build:
        on_build(example, "done")
    results: dict[str, ScenarioResult] = {}
    for topology in with_fixes(session, example):
        for name in names:
            if stop.is_set():
                break
            if only is not None and case_costs.key(example.id, case_key(name, topology)) not in only:
                continue
            try:
                results[case_key(name, topology)] = _one_case(session, example, name, topology, 0, clock, on_case)
            except ServerDied as exc:
                # Every later case would fail for the same reason: stop with one clear error.
                stop.set()
                return results, f"{example.id}::{case_key(name, topology)}: {exc}"
    return results, ""


def _run_in_parallel(session: HarnessSession, plan: Plan, jobs: int, costs: case_costs.CaseCosts, clock: float,
                     on_case: CaseCallback | None, on_build: BuildCallback | None, only: set[str] | None = None,
                     restarts_over: threading.Event | None = None
                     ) -> tuple[dict[str, dict[str, ScenarioResult]], list[str]]:
    """Every case of the plan through `jobs` workers, next case first by harness.schedule; the
    gate admits them within the machine's cores, by what each was measured to cost last time."""
    session.start()  # once, before the threads
    seconds = case_seconds(costs)
    declared = {s.name: s.cpu_cores for s in session.spec.scenarios.values()}
    session.gate.limit_cpu(cores(), cpu_weights(costs, declared), seconds)

    def exclusive(example: Example, name: str) -> bool:
        check = CHECKS.get(name)
        return name in example.applies and check is not None and check.exclusive

    cases = [Case(example, name, topology, expected_seconds(example, name, seconds), exclusive(example, name))
             for example, names in plan for topology in with_fixes(session, example) for name in names
             if only is None or case_costs.key(example.id, case_key(name, topology)) in only]
    results: dict[str, dict[str, ScenarioResult]] = {example.id: {} for example, _ in plan}
    errors: list[str] = []
    lock = threading.Lock()

    def build(example: Example) -> None:
        if on_build:
            on_build(example, "start")
        session.prepare_example(example)
        if on_build:
            on_build(example, "done")

    # Every build before any case: a build is CPU-heavy and outside the gate, and a case must not
    # hold the queue (or a restart case the gate) while its example builds.
    with ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="build") as builders:
        list(builders.map(build, [example for example, _ in plan]))

    def run(case: Case, role: int) -> bool:
        example = case.example
        try:
            result = _one_case(session, example, case.name, case.topology, role, clock, on_case)
        except ServerDied as exc:
            with lock:
                errors.append(f"{example.id}::{case_key(case.name, case.topology)}: {exc}")
            return False
        with lock:
            results[example.id][case_key(case.name, case.topology)] = result
        return True

    work_through(CaseQueue(cases, roles_for(plan, jobs, seconds), session.gate, restarts_over), jobs, run)
    return results, errors


@dataclass
class MatrixResults:
    """What the cases of a plan gave, before the run is assembled."""

    plan: Plan
    results: dict[str, dict[str, ScenarioResult]]
    errors: list[str]
    link_probe: Future[dict[str, Any]] | None = None   # the probe's link half, when it ran beside the cases


def collect_matrix(session: HarnessSession, plan: Iterable[tuple[Example, list[str]]],
                   on_case: CaseCallback | None = None, on_build: BuildCallback | None = None,
                   jobs: int = 1, only: set[str] | None = None) -> MatrixResults:
    """The plan's cases: with one job, example by example in spec order, in this thread (a signal
    then reaches the case's process group at once); with more, harness.schedule's order.
    only: run just these '<id>::<case key>' of the plan (pytest's selection)."""
    plan = list(plan)
    clock = time.monotonic()
    costs = case_costs.of_run(session.config.paths.cache, session.config.paths.examples, session.config.backend)
    link = None
    if jobs > 1 and len(plan) > 1:
        restarts_over = threading.Event()
        if session.config.remote_rtt_ms > 0 and wants_probe(session.catalog, plan):
            link = start_link_probe(session, restarts_over)
        try:
            results, run_errors = _run_in_parallel(session, plan, jobs, costs, clock, on_case, on_build, only,
                                                   restarts_over)
        finally:
            restarts_over.set()   # a run that ended before its queue did must not leave the probe waiting
        ran = plan
    else:
        stop = threading.Event()
        outcomes = []
        for example, names in plan:
            outcomes.append(_run_example(session, example, names, stop, on_case, on_build, clock, only))
            if stop.is_set():
                break
        ran = plan[:len(outcomes)]
        results = {example.id: found for (example, _), (found, _) in zip(ran, outcomes)}
        run_errors = [error for _, error in outcomes if error]
    case_costs.record(session.config.paths.cache, session.config.backend, results)
    errors = [e.render() for e in session.catalog.discovery.errors] + run_errors
    return MatrixResults(ran, results, errors, link)


def run_matrix(session: HarnessSession, plan: Iterable[tuple[Example, list[str]]], jobs: int = 1) -> RunResult:
    """collect_matrix, assembled (no probe)."""
    started = now()
    matrix = collect_matrix(session, plan, jobs=jobs)
    return assemble_run(session, matrix.plan, matrix.results, errors=matrix.errors, started=started)


def assemble_run(session: HarnessSession | None, plan: Iterable[tuple[Example, list[str]]],
                 results: Mapping[str, Mapping[str, ScenarioResult]], *, errors: list[str], started: datetime,
                 postgres: str = "", probe: dict[str, Any] | None = None, backend: str = "",
                 topologies: Iterable[Topology | str] | None = None) -> RunResult:
    """The one RunResult of a run: per planned example, its cases in spec order (a not-applicable
    case that did not run is judged here, the same way), its build, and its own outcome."""
    finished = now()
    chosen = tuple(as_topology(t) for t in (topologies or (session.config.via if session else (DIRECT_TOPOLOGY,))))
    run = RunResult(backend=backend or (session.config.backend if session else ""),
                    postgres=(session.postgres_version if session else "") or postgres,
                    errors=list(errors), lifecycle_probe=probe, started=started, finished=finished,
                    topologies=[t.label for t in chosen], pooler=session.pooler_version if session else "",
                    fixes=snippets(session.config.paths.spec, session.config.paths.examples) if session else {},
                    source=current_commit(session.config.paths.root).to_json() if session else {})
    for example, names in plan:
        result = ExampleResult(example.id, example.language, example.driver, samples=samples_of(example.folder))
        build = session.builds.get(example.id) if session else None
        if build is not None:
            result.build_seconds, result.build_cached = build.seconds, build.cached
        found = results.get(example.id, {})
        for topology in chosen:
            if topology.fix and not any(r.topology == topology.label for r in found.values()):
                continue   # a driver fix's topology named by --via: only the examples it covers run it
            for name in names:
                key = case_key(name, topology)
                if key in found:
                    result.scenarios.append(found[key])
                elif name in example.not_applicable:
                    result.scenarios.append(judge(example, Finding(name, not_applicable=example.not_applicable[name],
                                                                   topology=topology.label)))
        listed = {s.key for s in result.scenarios}
        result.scenarios += [r for key, r in found.items() if key not in listed]   # a driver fix's rows
        if not result.scenarios and all(t.fix for t in chosen):
            continue   # no case of this example runs through the driver fixes --via named
        missing = (session.missing.get(example.id) if session else None) or []
        result.settle(toolchain_missing="; ".join(s.line for s in missing))
        run.examples.append(result)
    return run


def wants_probe(catalog: Catalog, plan: Iterable[tuple[Example, list[str]]]) -> bool:
    """The probe belongs to the lifecycle group: it runs when the selection holds one of its cases."""
    return any(catalog.spec.scenarios[name].group == "lifecycle" for _, names in plan for name in names)


def _probe_targets(session: HarnessSession) -> tuple[Target, Target]:
    """The probe's role at the run's endpoint, by host name, plain and with TLS verified."""
    session.start()
    assert session.server is not None and session.janitor is not None
    endpoint = session.server.endpoint
    if endpoint.tls is None:
        raise HarnessError(f"the {session.config.backend} server has no TLS certificates")
    role = session.janitor.ensure_role(PROBE_ROLE_OWNER)
    plain = Target(PROBE_HOST_NAME, endpoint.port, role, session.credentials.for_role(role))
    return plain, replace(plain, ca_file=endpoint.tls.ca)


def start_link_probe(session: HarnessSession, restarts_over: threading.Event) -> Future[dict[str, Any]]:
    """The probe's simulated-link half, beside the cases of a parallel run: about 4 s of waiting on
    the link's round trips that need not sit at the run's end (its steps are 130-260 ms, of which
    the CPU's part, TLS and SCRAM, is a few ms). It holds the gate as a light case does, so no
    server restart happens under it; it starts once the restart cases (first in the order, alone)
    are over, or they would wait those 4 s for it with the machine idle."""
    plain, tls = _probe_targets(session)
    link: Future[dict[str, Any]] = Future()

    def measure() -> None:
        try:
            restarts_over.wait()
            with session.gate.enter(False, "harness::probe over the link", weight=0.1, seconds=6.0):
                link.set_result(measure_link(plain, tls, session.config.remote_rtt_ms))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever reads the probe
            link.set_exception(exc)

    threading.Thread(target=measure, name="link-probe", daemon=True).start()
    return link


def lifecycle_probe(session: HarnessSession, samples: int = PROBE_SAMPLES,
                    link: Future[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The page's connection steps timed one by one against the run's endpoint, as a role of its
    own over the same pg_hba.conf line as the examples; by host name, so that name resolution and
    the certificate's host name check are part of it. The local half runs now, alone on the
    machine; the simulated link's is `link`'s when it ran beside the cases."""
    plain, tls = _probe_targets(session)
    remote = link.result(timeout=LINK_PROBE_TIMEOUT_SECONDS) if link is not None else None
    with session.gate.enter(False):
        return run_probe(plain, tls, samples, remote_rtt_ms=session.config.remote_rtt_ms, remote=remote)


def probe_or_error(session: HarnessSession, link: Future[dict[str, Any]] | None = None
                   ) -> tuple[dict[str, Any] | None, str]:
    """The probe, or the run-level error of a probe that could not connect."""
    try:
        return lifecycle_probe(session, link=link), ""
    except (ProbeError, OSError, HarnessError) as exc:
        return None, f"lifecycle probe: {type(exc).__name__}: {exc}"
