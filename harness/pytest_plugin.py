"""pytest integration: every `examples/<language>/<name>/example.yaml` becomes one test per
scenario, with pytest's own node ids (`examples/<language>/<name>/example.yaml::<scenario>`, with
`[<topology>]` when --via names more than direct), markers per language, per example and per
scenario group (`-m java`, `-m pg_pool`, `-m pool`), and results.json written at the end. A case
the manifest declares not applicable is a skip with its reason, at its line of the manifest.

The shared server starts when the first case runs and stops at session end, also on Ctrl-C."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness import interrupts, outputs
from harness.config import OPTIONS, Config, add_pytest_options, build_config
from harness.errors import HarnessError, InputError, ServerDied
from harness.manifest import Example, load_manifest
from harness.outcome import RunResult, ScenarioResult, scenario_from_json
from harness.pooler import DIRECT_TOPOLOGY, Topology, case_key
from harness.probe import ProbeError
from harness.pytest_batch import CaseBatch
from harness.pytest_ids import example_cases, harness_markers, item_name, manifest_line, short_case_id
from harness.reporting import write_run
from harness.runner import assemble_run, lifecycle_probe, now
from harness.session import HarnessSession
from harness.verdict import action_in_pytest

STATE = pytest.StashKey["HarnessPlugin"]()
RESULT_PROPERTY = "pg_sample_harness_result"
PROBE_PROPERTY = "pg_sample_harness_probe"
PROBE_NAME = "lifecycle_probe"
SUBSET_FOLDER = "subset"   # under reports/: where a run of part of the matrix writes


class CaseFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.message)
        self.result = result


class HarnessPlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = now()
        self.harness: Config = build_config({o.dest: config.getoption(o.dest) for o in OPTIONS if o.pytest_flags})
        self.paths = self.harness.paths
        self._session: HarnessSession | None = None
        self.results: dict[str, dict[str, ScenarioResult]] = {}
        self.examples: dict[str, Example] = {}
        self.reports_error = ""
        self.postgres = ""  # the server version as the xdist workers report it
        self.probe: dict[str, Any] | None = None
        self.probe_collected = False
        # The examples with a case left after every deselection (None: not known, as on the xdist controller).
        self.selected: set[str] | None = None
        self.results_path: Path = self.harness.results_path   # resolved (a directory allowed) in pytest_configure
        self.subset = False   # the run selected part of the matrix (choose_output)
        # The selected cases, run at once (harness.pytest_batch); an xdist worker is told its
        # cases one by one, so it runs each as it comes.
        self.batch = CaseBatch(1 if self.is_xdist_worker else self.harness.jobs)

    @property
    def session(self) -> HarnessSession:
        if self._session is None:
            self._session = HarnessSession(self.harness)  # no I/O until a case starts its server
        return self._session

    def start_server(self) -> HarnessSession:
        session = self.session
        if session.server is None:
            try:
                session.start()
            except BaseException:
                session.close()
                raise
        return session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    @property
    def is_xdist_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    def choose_output(self, nodeids: list[str]) -> None:
        """A run of part of the matrix (-k, -m, --lf, --deselect, a node id or a file) writes
        its results and reports to reports/subset/, so that the last full run's reports/ stays;
        --harness-out, when given, is where either goes."""
        try:
            matrix = {f"{example.id}::{item_name(name, topology, self.harness.via)}" for example in self.session.examples
                      for name, topology, _ in example_cases(self.session, example)}
        except InputError:
            return   # a broken spec: collection reports it
        self.subset = not matrix <= {short_case_id(nodeid) for nodeid in nodeids}
        if self.subset and self.harness.out is None and not self.config.getoption("collectonly"):
            try:
                self.results_path = outputs.resolve(self.paths.reports / SUBSET_FOLDER / outputs.RESULTS_NAME)
            except InputError as exc:
                raise pytest.UsageError(exc.render()) from None

    def record_from_report(self, report: pytest.TestReport) -> None:
        """Results travel on the report (user_properties), so that under pytest-xdist the
        controller, which runs no case itself, writes results.json for all workers."""
        for key, value in report.user_properties:
            if key == PROBE_PROPERTY:
                self.probe = json.loads(value)
            if key != RESULT_PROPERTY:
                continue
            payload = json.loads(value)
            self.postgres = self.postgres or payload.get("postgres", "")
            example = next((e for e in self.session.examples if e.id == payload["example"]), None)
            if example is not None:
                self.record(example, scenario_from_json(payload["result"]))

    def record(self, example: Example, result: ScenarioResult) -> None:
        self.examples[example.id] = example
        self.results.setdefault(example.id, {})[result.key] = result

    def run_result(self) -> RunResult:
        """The same assembly as the CLI's: every selected example (one deselected by -k/-m is not
        part of this run), its cases in spec order, the not-applicable ones judged by the same judgement."""
        session = self.session
        plan = [(example, session.spec.names) for example_id, example in sorted(self.examples.items())
                if self.selected is None or example_id in self.selected]
        return assemble_run(self._session, plan, self.results, errors=[], started=self.started,
                            postgres=self.postgres, probe=self.probe, backend=self.harness.backend,
                            topologies=self.harness.via)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_pytest_options(parser.getgroup("pg-sample-harness"))


def pytest_configure(config: pytest.Config) -> None:
    plugin = HarnessPlugin(config)
    config.stash[STATE] = plugin
    if not plugin.is_xdist_worker:
        # SIGTERM and SIGHUP (terminal closed) end the session like Ctrl-C: the server is stopped.
        interrupts.install((signal.SIGTERM, signal.SIGHUP))
        try:  # checked before the run, not after it (a file, or a directory for results.json and the reports)
            plugin.results_path = outputs.resolve(plugin.results_path, "--harness-out")
        except InputError as exc:
            raise pytest.UsageError(exc.render()) from None
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None) \
            and not plugin.is_xdist_worker:
        config.pluginmanager.register(HarnessReportCollector(plugin), "pg-sample-harness-xdist-collector")
    for marker, description in harness_markers(plugin.config.getini("markers"), plugin.session, plugin.paths.examples).items():
        config.addinivalue_line("markers", f"{marker}: {description}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    plugin = config.stash[STATE]
    backend = plugin.session.backend
    return [f"pg-sample-harness: {backend.describe(plugin.harness)}, backend {backend.name}, "
            f"examples in {plugin.paths.examples}"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    plugin = parent.config.stash[STATE]
    if file_path.name != "example.yaml":
        return None
    try:
        file_path.relative_to(plugin.paths.examples)
    except ValueError:
        return None  # deliberately wrong examples under tests/ are not part of the matrix
    return ExampleFile.from_parent(parent, path=file_path)


class ExampleFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        plugin: HarnessPlugin = self.config.stash[STATE]
        session = plugin.session
        folder = self.path.parent
        example_id = f"{folder.parent.name}/{folder.name}"
        try:
            # Discovery has read every manifest: its errors include those between two (one role name).
            found = next((e for e in session.catalog.discovery.errors if e.file == str(self.path)), None)
            if found is not None:
                raise found
            example = load_manifest(self.path, session.spec.names)
        except InputError as error:
            # A broken manifest is one failing test with the fix in it; the others still run.
            yield ManifestError.from_parent(self, name="manifest", example_id=example_id, error=error)
            return
        plugin.examples[example.id] = example
        lifecycle = False
        for name, topology, not_applicable in example_cases(session, example):
            scenario = session.spec.scenarios[name]
            key = case_key(name, topology)
            item = ScenarioItem.from_parent(self, name=item_name(name, topology, session.config.via), example=example,
                                            scenario=name, topology=topology, not_applicable=not_applicable)
            for marker in (example.language, example.marker, scenario.group):
                item.add_marker(marker)
            # -k also takes the harness's own id of the case, as `harness run` prints it.
            item.extra_keyword_matches.update({example.id, example.language, example.name, topology.label,
                                               f"{example.id}::{key}"})
            lifecycle = lifecycle or (scenario.group == "lifecycle" and not not_applicable)
            yield item
        if lifecycle and not plugin.probe_collected:
            # Collected (so that pytest's "collected / selected" counts include it) with the
            # first example that has lifecycle cases; it answers to every example's -k and -m.
            plugin.probe_collected = True
            yield make_probe_item(self, session.examples, session.spec.names)


def make_probe_item(parent: pytest.Collector, examples: list[Example], scenario_names: list[str]) -> "ProbeItem":
    probe = ProbeItem.from_parent(parent, name=PROBE_NAME)
    probe.add_marker("lifecycle")
    for example in examples:
        for marker in (example.language, example.marker):
            probe.add_marker(marker)
        probe.extra_keyword_matches.update({example.id, example.language, example.name})
    probe.extra_keyword_matches.update(scenario_names)
    return probe


@pytest.hookimpl(trylast=True)  # after -k/-m have deselected
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The lifecycle probe runs after the cases, and only when a lifecycle case runs or when it is
    all that was selected (else it is deselected, and counted so)."""
    probes = [i for i in items if isinstance(i, ProbeItem)]
    cases = [i for i in items if isinstance(i, ScenarioItem)]
    if probes:
        items[:] = [i for i in items if not isinstance(i, ProbeItem)]
        if not cases or any(i.get_closest_marker("lifecycle") and not i.not_applicable for i in cases):
            items.extend(probes)
        else:
            config.hook.pytest_deselected(items=probes)


def pytest_collection_finish(session: pytest.Session) -> None:
    """After every deselection (-k, -m, --deselect, and --lf, whose filter runs after every
    other plugin's pytest_collection_modifyitems): the batch is exactly the cases left."""
    plugin: HarnessPlugin = session.config.stash[STATE]
    cases = [i for i in session.items if isinstance(i, ScenarioItem)]
    plugin.selected = {i.example.id for i in cases} | {i.example_id for i in session.items
                                                       if isinstance(i, ManifestError)}
    plugin.batch.select((i.example, i.scenario, i.topology) for i in cases if not i.not_applicable)
    plugin.choose_output([i.nodeid for i in session.items])


class ProbeItem(pytest.Item):
    """harness.probe against the run's server: each connection step timed, plain and TLS. It
    fails when a step does not behave as pg_hba.conf and the certificates say it must."""

    def runtest(self) -> None:
        plugin: HarnessPlugin = self.config.stash[STATE]
        session = plugin.start_server()
        try:
            probe = lifecycle_probe(session, link=plugin.batch.link_probe)
        except (ProbeError, OSError) as exc:
            raise HarnessError(f"the probe could not complete a connection: {type(exc).__name__}: {exc}") from exc
        plugin.probe = probe
        self.user_properties.append((PROBE_PROPERTY, json.dumps(probe)))
        for mode in ("plain", "tls"):
            self.user_properties.append((f"{mode}_connect_p50_ms", probe[mode]["connect"]["p50"]))
            if probe[mode]["auth_mechanism"] != "SCRAM-SHA-256":
                raise HarnessError(f"{mode}: the server authenticated with {probe[mode]['auth_mechanism']}, "
                                   "not SCRAM-SHA-256 (check pg_hba.conf)")
        if not str(probe["tls"]["tls_version"]).startswith("TLSv1."):
            raise HarnessError(f"TLS: the handshake gave version {probe['tls']['tls_version']!r}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError):
            return f"lifecycle probe: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(__file__).with_name("probe.py"), 0, self.nodeid


class ManifestError(pytest.Item):
    def __init__(self, *, example_id: str, error: InputError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.example_id = example_id
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return f"broken manifest\n{self.error.render()}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.nodeid


class ScenarioItem(pytest.Item):
    def __init__(self, *, example: Example, scenario: str, topology: Topology = DIRECT_TOPOLOGY, not_applicable: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.example = example
        self.scenario = scenario
        self.topology = topology
        self.not_applicable = not_applicable   # the manifest's reason; the case then does not run

    def runtest(self) -> None:
        if self.not_applicable:
            pytest.skip(f"not applicable: {self.not_applicable}")
        plugin: HarnessPlugin = self.config.stash[STATE]
        session = plugin.start_server()
        try:
            result = plugin.batch.result(session, self.example, self.scenario, self.topology)
        except ServerDied as exc:
            # One run-level error instead of a failure for every remaining case.
            pytest.exit(f"{self.nodeid}: {exc}", returncode=3)
        plugin.record(self.example, result)
        self.user_properties.append((RESULT_PROPERTY, json.dumps({"example": self.example.id, "postgres": session.postgres_version,
                                                              "result": result.to_json()})))
        self.user_properties.append(("outcome", result.outcome.value))
        for key, value in result.observed.items():
            if key != "timeline":
                self.user_properties.append((key, value))
        if result.stderr:
            self.add_report_section("call", "example stderr", result.stderr)
        action = action_in_pytest(result.outcome)   # harness.verdict: what pytest makes of the outcome
        if action == "skip":
            pytest.skip(result.message)
        if action == "xfail":
            pytest.xfail(result.message)
        if action == "fail":
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            result = excinfo.value.result
            return result.failure.render() if result.failure else result.message
        if isinstance(excinfo.value, HarnessError):
            return f"run-level error: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, manifest_line(self.path, self.scenario) - 1, self.nodeid


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A case's skip is reported (-rs) at its line of its example.yaml, not where the plugin raised it."""
    report: pytest.TestReport = yield
    if isinstance(item, ScenarioItem) and report.skipped and isinstance(report.longrepr, tuple):
        report.longrepr = (str(item.path), manifest_line(item.path, item.scenario), report.longrepr[2])
    return report


class HarnessReportCollector:
    """Registered on the pytest-xdist controller only: gathers the workers' results."""

    def __init__(self, plugin: "HarnessPlugin") -> None:
        self.plugin = plugin

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.plugin.record_from_report(report)

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Each worker's selection (the same on every worker): where the results go."""
        self.plugin.choose_output(ids)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    plugin: HarnessPlugin = config.stash[STATE]
    for warning in plugin.session.catalog.discovery.warnings:
        terminalreporter.line(f"pg-sample-harness warning: {warning}", yellow=True)
    if plugin.results:
        out = plugin.results_path
        part = " (part of the matrix: the last full run's reports stay)" if plugin.subset and plugin.harness.out is None else ""
        terminalreporter.line(f"pg-sample-harness results: {out}{part}")
        if plugin.reports_error:
            terminalreporter.line(f"pg-sample-harness reports could not be written: {plugin.reports_error}", red=True)
        else:
            terminalreporter.line(f"pg-sample-harness report: {out.parent / 'index.html'} (junit/, badges/ beside it)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    plugin: HarnessPlugin = session.config.stash[STATE]
    try:
        if plugin.results and not plugin.is_xdist_worker:
            written = write_run(plugin.run_result(), plugin.results_path)
            if written.error:  # results.json is written; the summary says what failed
                plugin.reports_error = written.error
                if session.exitstatus == pytest.ExitCode.OK:
                    session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    finally:
        plugin.close()
