"""pytest integration: every `examples/<language>/<name>/example.yaml` becomes one test per
scenario, with ids like `node/pg-pool::param_query`, markers per language, per example and per
scenario group (`-m java`, `-m pg_pool`, `-m pool`), and results.json written at the end.

The shared server starts when the first case runs and stops at session end, also on Ctrl-C."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness import interrupts, outputs
from harness.errors import HarnessError, InputError, ServerDied
from harness.manifest import Example, load_manifest, marker_name
from harness.outcome import ExampleResult, Outcome, RunResult, ScenarioResult, scenario_from_json
from harness.paths import ProjectPaths
from harness.probe import ProbeError
from harness.report import write_results
from harness.reporting import write_reports
from harness.session import HarnessSession, RunOptions

STATE = pytest.StashKey["HarnessPlugin"]()
RESULT_PROPERTY = "pg_sample_harness_result"
PROBE_PROPERTY = "pg_sample_harness_probe"
PROBE_NODEID = "harness::lifecycle_probe"


class CaseFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.message)
        self.result = result


class HarnessPlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.paths = ProjectPaths.default()
        self.options = RunOptions(backend=config.getoption("backend"), rebuild=config.getoption("rebuild"),
                                  remote_rtt_ms=config.getoption("remote_rtt_ms"))
        self._session: HarnessSession | None = None
        self.results: dict[str, dict[str, ScenarioResult]] = {}
        self.examples: dict[str, Example] = {}
        self.not_applicable: list[tuple[str, str, str]] = []
        self.reports_error = ""
        self.postgres = ""  # the server version as the xdist workers report it
        self.probe: dict[str, Any] | None = None
        self.results_path: Path = self.paths.reports / "results.json"

    @property
    def session(self) -> HarnessSession:
        if self._session is None:
            self._session = HarnessSession(self.options, self.paths)
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
        self.results.setdefault(example.id, {})[result.name] = result

    def run_result(self) -> RunResult:
        session = self._session
        run = RunResult(backend=self.options.backend,
                        postgres=(session.postgres_version if session else "") or self.postgres,
                        lifecycle_probe=self.probe)
        for example_id, example in sorted(self.examples.items()):
            result = ExampleResult(example.id, example.language, example.driver)
            build = session.builds.get(example_id) if session else None
            if build:
                result.build_seconds, result.build_cached = build.seconds, build.cached
            names = session.spec.names if session else list(self.results[example_id])
            for name in names:
                if name in self.results.get(example_id, {}):
                    result.scenarios.append(self.results[example_id][name])
                elif name in example.not_applicable:
                    result.scenarios.append(ScenarioResult(name, Outcome.NOT_APPLICABLE, message=example.not_applicable[name]))
            result.settle()
            run.examples.append(result)
        return run


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pg-sample-harness")
    group.addoption("--backend", choices=["native", "docker"], default="native",
                    help="where PostgreSQL and the examples run (default: native)")
    group.addoption("--rebuild", action="store_true", help="rebuild every example even if unchanged")
    group.addoption("--remote-rtt-ms", type=float, default=RunOptions.remote_rtt_ms, metavar="MS",
                    help="the lifecycle probe also connects over a simulated link of this round-trip time (0: off)")
    group.addoption("--harness-out", default=None, metavar="PATH",
                    help="a file for results.json (the reports go beside it), or a directory for both "
                         "(default: reports/results.json); checked before the run")


def pytest_configure(config: pytest.Config) -> None:
    plugin = HarnessPlugin(config)
    config.stash[STATE] = plugin
    if not plugin.is_xdist_worker:
        # SIGTERM and SIGHUP (terminal closed) end the session like Ctrl-C: the server is stopped.
        interrupts.install((signal.SIGTERM, signal.SIGHUP))
        try:  # checked before the run, not after it (a file, or a directory for results.json and the reports)
            plugin.results_path = outputs.resolve(config.getoption("harness_out") or plugin.results_path, "--harness-out")
        except InputError as exc:
            raise pytest.UsageError(exc.render()) from None
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None) \
            and not plugin.is_xdist_worker:
        config.pluginmanager.register(HarnessReportCollector(plugin), "pg-sample-harness-xdist-collector")
    for marker in ("core: a core scenario", "pool: a pool scenario", "lifecycle: a connection lifecycle scenario"):
        config.addinivalue_line("markers", marker)
    examples_dir = plugin.paths.examples
    for manifest in examples_dir.glob("*/*/example.yaml"):
        language, name = manifest.parent.parent.name, manifest.parent.name
        config.addinivalue_line("markers", f"{language}: examples in {language}")
        config.addinivalue_line("markers", f"{marker_name(name)}: the {language}/{name} example")


def pytest_report_header(config: pytest.Config) -> list[str]:
    plugin = config.stash[STATE]
    backend = plugin.options.backend
    if backend == "native":
        from harness.server.native import find_bindir, server_version_of
        try:
            bindir = find_bindir()
            server = f"PostgreSQL {server_version_of(bindir)} ({bindir})"
        except HarnessError as exc:
            server = f"PostgreSQL not found: {exc}"
    else:
        from harness.server.container import image_name  # type: ignore[import-not-found]
        server = f"PostgreSQL image {image_name()}"
    return [f"pg-sample-harness: {server}, backend {backend}, examples in {plugin.paths.examples}"]


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
            found = next((e for e in session.discovery.errors if e.file == str(self.path)), None)
            if found is not None:
                raise found
            example = load_manifest(self.path, session.spec.names)
        except InputError as error:
            # A broken manifest is one failing test with the fix in it; the others still run.
            yield ManifestError.from_parent(self, name="manifest", nodeid=f"{example_id}::manifest", error=error)
            return
        plugin.examples[example.id] = example
        for name, scenario in session.spec.scenarios.items():
            if name in example.not_applicable:
                plugin.not_applicable.append((example.id, name, example.not_applicable[name]))
                continue
            item = ScenarioItem.from_parent(self, name=name, nodeid=f"{example.id}::{name}", example=example)
            for marker in (example.language, example.marker, scenario.group):
                item.add_marker(marker)
            item.extra_keyword_matches.update({example.id, example.language, example.name})
            yield item


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselect: the probe answers to `lifecycle` and its name
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The lifecycle probe joins the run when a lifecycle case does, after the cases."""
    if any(isinstance(i, ScenarioItem) and i.get_closest_marker("lifecycle") for i in items):
        probe = ProbeItem.from_parent(session, name="lifecycle_probe", nodeid=PROBE_NODEID)
        probe.add_marker("lifecycle")
        items.append(probe)


class ProbeItem(pytest.Item):
    """harness.probe against the run's server: each connection step timed, plain and TLS. It
    fails when a step does not behave as pg_hba.conf and the certificates say it must."""

    def runtest(self) -> None:
        plugin: HarnessPlugin = self.config.stash[STATE]
        session = plugin.start_server()
        try:
            probe = session.lifecycle_probe()
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
    def __init__(self, *, error: InputError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return f"broken manifest\n{self.error.render()}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.nodeid


class ScenarioItem(pytest.Item):
    def __init__(self, *, example: Example, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.example = example

    def runtest(self) -> None:
        plugin: HarnessPlugin = self.config.stash[STATE]
        session = plugin.start_server()
        try:
            result = session.run_case(self.example, self.name)
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
        if result.outcome is Outcome.SKIPPED:
            pytest.skip(result.message)
        if result.outcome is Outcome.XFAILED:
            pytest.xfail(result.message)
        if result.outcome in (Outcome.FAILED, Outcome.XPASSED):
            raise CaseFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            result = excinfo.value.result
            return result.failure.render() if result.failure else result.message
        if isinstance(excinfo.value, HarnessError):
            return f"run-level error: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.nodeid


class HarnessReportCollector:
    """Registered on the pytest-xdist controller only: gathers the workers' results."""

    def __init__(self, plugin: "HarnessPlugin") -> None:
        self.plugin = plugin

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.plugin.record_from_report(report)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    plugin: HarnessPlugin = config.stash[STATE]
    for warning in plugin.session.discovery.warnings:
        terminalreporter.line(f"pg-sample-harness warning: {warning}", yellow=True)
    if not plugin.not_applicable and plugin.examples:  # the xdist controller collected nothing itself
        plugin.not_applicable = [(e.id, n, r) for e in plugin.examples.values() for n, r in e.not_applicable.items()]
    if plugin.not_applicable:
        terminalreporter.section("not applicable (declared in each example.yaml)", sep="-")
        for example_id, name, reason in plugin.not_applicable:
            terminalreporter.line(f"n/a {example_id}::{name}: {reason}")
        terminalreporter.line(f"{len(plugin.not_applicable)} cases not applicable")
    if plugin.results:
        out = plugin.results_path
        terminalreporter.line(f"pg-sample-harness results: {out}")
        if plugin.reports_error:
            terminalreporter.line(f"pg-sample-harness reports could not be written: {plugin.reports_error}", red=True)
        else:
            terminalreporter.line(f"pg-sample-harness report: {out.parent / 'index.html'} (junit/, badges/ beside it)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    plugin: HarnessPlugin = session.config.stash[STATE]
    try:
        if plugin.results and not plugin.is_xdist_worker:
            out = plugin.results_path
            run = plugin.run_result()
            write_results(run, out)
            try:
                write_reports(run.to_json(), out.parent)
            except Exception as exc:  # noqa: BLE001 - results.json is written; the summary says what failed
                plugin.reports_error = f"{type(exc).__name__}: {exc}"
                if session.exitstatus == pytest.ExitCode.OK:
                    session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    finally:
        plugin.close()
