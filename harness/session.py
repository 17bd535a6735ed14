"""One run: the shared server, the fixture template, the builds, and one call per case.
The CLI and the pytest plugin both drive a `HarnessSession`; neither knows how a case is run."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg

from harness.build import BuildResult
from harness.credentials import Credentials, mask_all
from harness.executors import Executor, NativeExecutor
from harness.errors import HarnessError, ServerDied
from harness.gate import CaseGate
from harness.interrupts import deferred
from harness.janitor import CaseDatabase, Janitor
from harness.manifest import Discovery, Example, discover
from harness.observe import ActivitySampler, ServerLog, wait_backends_gone
from harness.outcome import Failure, Outcome, ScenarioResult
from harness.paths import ProjectPaths
from harness.probe import Target, run_probe
from harness.process import ProcessRun, run_process
from harness.sandbox import leftover_problems, run_notes
from harness.scenarios import REGISTRY, CaseContext, Verdict
from harness.server.base import PostgresServer, ServerSettings, new_run_id
from harness.spec import Scenario, Spec, load_spec
from harness.toolchain import ToolStatus

OUTPUT_TAIL_CHARS = 8000
# What `connection: {password: wrong}` hands the example: never the role's password.
WRONG_PASSWORD = "not-the-password"
PROBE_SAMPLES = 30
PROBE_HOST_NAME = "localhost"  # the server certificate names it; /etc/hosts maps it to 127.0.0.1
PROBE_ROLE_OWNER = "harness/probe"  # its role: ex_harness_probe


@dataclass(frozen=True)
class RunOptions:
    backend: str = "native"
    rebuild: bool = False
    keep_databases: bool = False
    # The lifecycle probe also measures over a simulated link of this round-trip time (0: off).
    remote_rtt_ms: float = 40.0


def make_executor(backend: str, cache_dir: Path, run_id: str | None = None) -> Executor:
    if backend == "docker":
        from harness.container_executor import DockerExecutor
        return DockerExecutor(cache_dir, run_id=run_id)
    return NativeExecutor(cache_dir)


def make_server(backend: str, password: str, run_id: str | None = None) -> PostgresServer:
    settings = ServerSettings(superuser_password=password)
    if backend == "native":
        from harness.server.native import NativeServer
        return NativeServer(settings)
    if backend == "docker":
        from harness.server.container import ContainerServer
        return ContainerServer(settings, run_id=run_id)
    raise HarnessError(f"unknown backend {backend!r}\n  fix: use --backend native or --backend docker")


@dataclass
class HarnessSession:
    options: RunOptions = field(default_factory=RunOptions)
    paths: ProjectPaths = field(default_factory=ProjectPaths.default)

    def __post_init__(self) -> None:
        self.spec: Spec = load_spec(self.paths.spec)
        self.discovery: Discovery = discover(self.paths.examples, self.spec.names)
        # The superuser's password and one per example role, never printed (harness.credentials).
        self.credentials = Credentials()
        # Labels everything the docker backend makes for this run (containers, networks).
        self.run_id = new_run_id()
        self.server: PostgresServer | None = None
        self.janitor: Janitor | None = None
        self.server_log: ServerLog | None = None
        self.postgres_version = ""
        self.builds: dict[str, BuildResult] = {}
        self.missing: dict[str, list[ToolStatus]] = {}
        self.gate = CaseGate()
        self.executor: Executor = make_executor(self.options.backend, self.paths.cache, self.run_id)

    @property
    def examples(self) -> list[Example]:
        return self.discovery.examples

    # -- server -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.server is not None:
            return
        # What killed runs left (their owner is dead) goes first; live runs are never touched.
        for note in run_notes(self.executor):
            print(note, file=sys.stderr, flush=True)
        server = make_server(self.options.backend, self.credentials.superuser, self.run_id)
        # Known to the session before it starts: a Ctrl-C during initdb or pg_ctl start must
        # still reach server.stop() through close().
        self.server = server
        server.start()
        admin = server.admin_conninfo()
        with psycopg.connect(admin, autocommit=True) as conn:
            self.postgres_version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
            major = int(conn.info.server_version // 10000)
        self.janitor = Janitor(server.admin_conninfo, self.credentials.for_role, major)
        self.janitor.load_template(self.spec.fixture)
        self.server_log = ServerLog(admin)

    def close(self) -> None:
        with deferred():  # a second Ctrl-C waits until everything is stopped
            try:
                self.executor.cleanup()
            finally:
                if self.server is not None:
                    self.server.stop()
                    self.server = None

    def __enter__(self) -> "HarnessSession":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- builds -----------------------------------------------------------------------------
    def prepare_example(self, example: Example) -> None:
        """Check the toolchain and build, once per run."""
        if example.id in self.builds or example.id in self.missing:
            return
        missing = self.executor.missing_tools(example)
        if missing:
            self.missing[example.id] = missing
            return
        self.builds[example.id] = self.executor.build(example, force=self.options.rebuild)

    def ensure_server_alive(self) -> None:
        if self.server is not None and not self.server.is_alive():
            raise ServerDied("the PostgreSQL server stopped during the run; its log ends with:\n"
                             + self.mask(self.server.log_tail(20)))

    def mask(self, text: str) -> str:
        """No password of the run reaches a log, a report or a terminal, even if an example prints it."""
        return self.credentials.mask(text)

    # -- the lifecycle probe ----------------------------------------------------------------
    def lifecycle_probe(self, samples: int = PROBE_SAMPLES) -> dict[str, Any]:
        """The page's connection steps timed one by one against this run's server, as a role of
        its own over the same pg_hba.conf line as the examples; by host name, so that name
        resolution and the certificate's host name check are part of it."""
        self.start()
        assert self.server is not None and self.janitor is not None
        if self.server.client_tls is None:
            raise HarnessError(f"the {self.options.backend} server has no TLS certificates")
        role = self.janitor.ensure_role(PROBE_ROLE_OWNER)
        plain = Target(PROBE_HOST_NAME, self.server.port, role, self.credentials.for_role(role))
        with self.gate.enter(False):
            return run_probe(plain, replace(plain, ca_file=self.server.client_tls.ca), samples,
                             remote_rtt_ms=self.options.remote_rtt_ms)

    # -- cases ------------------------------------------------------------------------------
    def reproduce_command(self, example: Example, scenario: str) -> str:
        backend = "" if self.options.backend == "native" else f" --backend {self.options.backend}"
        return f"python -m harness run --example {example.id} --scenario {scenario}{backend}"

    def case_environment(self, example: Example, scenario: Scenario, db: CaseDatabase) -> dict[str, str]:
        """The standard libpq variables (and the same as DATABASE_URL), as the scenario's
        `connection` asks: TLS mode, which CA to trust, the role's password or a wrong one."""
        assert self.server is not None
        app = f"{example.id}::{scenario.name}"
        connection = scenario.connection
        password = db.password if connection.password == "role" else WRONG_PASSWORD
        tls = {"PGSSLMODE": connection.sslmode}
        if connection.sslrootcert != "none":
            if self.server.client_tls is None:
                raise HarnessError(f"scenario {scenario.name} needs TLS, but the {self.options.backend} server has no certificates")
            tls["PGSSLROOTCERT"] = str(self.server.client_tls.by_name(connection.sslrootcert))
        url_params = {"application_name": app, "sslmode": connection.sslmode}
        if "PGSSLROOTCERT" in tls:
            url_params["sslrootcert"] = tls["PGSSLROOTCERT"]
        query = urlencode(url_params, quote_via=quote)
        url = (f"postgresql://{quote(db.role)}:{quote(password)}@{self.server.host}:{self.server.port}/"
               f"{quote(db.dbname)}?{query}")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "HARNESS_", "DATABASE_URL"))}
        env.update({
            "PGHOST": self.server.host, "PGPORT": str(self.server.port), "PGDATABASE": db.dbname,
            "PGUSER": db.role, "PGPASSWORD": password, "PGAPPNAME": app, **tls,
            "DATABASE_URL": url, "HARNESS_SCENARIO": scenario.name,
            "HARNESS_PARAMS": json.dumps(scenario.params, ensure_ascii=False),
        })
        return env

    def run_case(self, example: Example, scenario_name: str) -> ScenarioResult:
        scenario = self.spec.scenarios[scenario_name]
        if scenario_name in example.not_applicable:
            return ScenarioResult(scenario_name, Outcome.NOT_APPLICABLE, message=example.not_applicable[scenario_name])
        if scenario_name not in example.applies:
            return ScenarioResult(scenario_name, Outcome.SKIPPED,
                                  message=f"not declared in {example.manifest.relative_to(self.paths.examples.parent)}: "
                                          "add it under scenarios.applies or scenarios.not_applicable")
        start = time.monotonic()
        result = self._run_applicable(example, scenario)
        result.seconds = time.monotonic() - start
        return mask_all(self._apply_known_failure(example, result), self.credentials)

    def _apply_known_failure(self, example: Example, result: ScenarioResult) -> ScenarioResult:
        known = example.known_failures.get(result.name)
        if known is None:
            return result
        if result.outcome is Outcome.FAILED:
            result.outcome = Outcome.XFAILED
            result.message = f"known failure: {known.reason} {known.link}".strip() + f" | {result.message}"
        elif result.outcome is Outcome.PASSED:
            result.outcome = Outcome.XPASSED
            result.message = (f"listed as a known failure ({known.reason}) but it passed: remove it from "
                              f"known_failures in {example.manifest} (or run with --update-known-failures)")
        return result

    def _failed(self, example: Example, scenario: Scenario, summary: str, **parts: Any) -> ScenarioResult:
        failure = Failure(summary=summary, reproduce=self.reproduce_command(example, scenario.name), **parts)
        return ScenarioResult(scenario.name, Outcome.FAILED, message=summary, failure=failure)

    def _run_applicable(self, example: Example, scenario: Scenario) -> ScenarioResult:
        self.prepare_example(example)
        if example.id in self.missing:
            lines = [status.line for status in self.missing[example.id]]
            return self._failed(example, scenario, "toolchain missing: " + "; ".join(lines),
                                problems=["the example cannot be built or run on this machine until these are installed",
                                          "`python -m harness doctor` lists every example's tools"])
        build = self.builds[example.id]
        if not build.ok:
            return self._failed(example, scenario, f"build failed: {build.message}",
                                stderr_tail=build.log_tail(), problems=[f"build log: {build.log_path}"])
        self.start()
        check_class = REGISTRY.get(scenario.name)
        if check_class is None:
            return self._failed(example, scenario, f"the harness has no check for scenario {scenario.name!r}",
                                problems=["add a ScenarioCheck for it in harness/scenarios/"])
        with self.gate.enter(check_class.exclusive):
            return self._run_case_on_server(example, scenario, check_class)

    def _run_case_on_server(self, example: Example, scenario: Scenario, check_class: type) -> ScenarioResult:
        self.ensure_server_alive()
        assert self.janitor is not None and self.server is not None and self.server_log is not None
        try:
            db = self.janitor.create_case_database(example.id, scenario.name)
        except psycopg.OperationalError:
            self.ensure_server_alive()
            raise
        ctx = CaseContext(example=example, scenario=scenario, spec=self.spec, db=db, server=self.server,
                          janitor=self.janitor, admin_conninfo=self.server.admin_conninfo(),
                          params=scenario.params)
        check = check_class(ctx)
        try:
            return self._observe_and_judge(example, scenario, ctx, check)
        except psycopg.OperationalError:
            # The harness's own queries fail when the server is gone: say that, once.
            self.ensure_server_alive()
            raise
        finally:
            if self.server.is_alive():
                check.finish()
                if not self.options.keep_databases:
                    self.janitor.drop_case_database(db)

    def _server_now(self, conninfo: str) -> datetime:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            return conn.execute("SELECT clock_timestamp()").fetchone()[0]

    def _observe_and_judge(self, example: Example, scenario: Scenario, ctx: CaseContext, check: Any) -> ScenarioResult:
        assert self.server_log is not None and self.janitor is not None
        check.prepare()
        offset = self.server_log.end_offset()
        env = self.case_environment(example, scenario, ctx.db)
        timeout = example.run_timeout or scenario.timeout_seconds
        ctx.server_time_before = self._server_now(ctx.admin_conninfo)
        with ActivitySampler(ctx.admin_conninfo, ctx.db.dbname) as sampler:
            case_id = f"{example.id}::{scenario.name}"
            launch = self.executor.launch(example, env, case_id)
            try:
                run = run_process(launch.command, launch.cwd, launch.env, timeout, on_checkpoint=check.on_checkpoint,
                                  confine=launch.confine)
            finally:
                self.executor.after_case(case_id)
        ctx.timeline = sampler.timeline
        ctx.process = run
        ctx.server_time_after = self._server_now(ctx.admin_conninfo)
        gone_within = float(scenario.expect.get("backends_gone_within_seconds", 2))
        _reached, _seconds, ctx.backends_left = wait_backends_gone(
            ctx.admin_conninfo, ctx.db.dbname, gone_within)
        time.sleep(0.05)  # the logging collector writes the last disconnection a moment later
        ctx.log = self.server_log.read_since(offset)

        verdict = Verdict()
        for problem in leftover_problems(run.leftovers, run.stdout_held, self.janitor.close_leftover_backends(ctx.db.role)):
            verdict.fail(problem)
        data = self._protocol_problems(run, scenario, check, verdict, timeout)
        if data is not None:
            try:
                check.verify(data, verdict)
            except Exception as exc:  # noqa: BLE001 - a malformed result must not crash the run
                verdict.fail(f"the result's data could not be checked: {type(exc).__name__}: {exc}")
        if check.expects_session and not ctx.connections_authorized():
            verdict.fail("the server saw no connection from this example's role: the output did not come from the server")
        verdict.observed.setdefault("connections_opened", len(ctx.connections_authorized()))
        verdict.observed["process_seconds"] = round(run.elapsed, 3)
        run.stdout, run.stderr = self.mask(run.stdout), self.mask(run.stderr)
        verdict.problems = [self.mask(p) for p in verdict.problems]
        result = ScenarioResult(scenario.name, Outcome.PASSED, observed=verdict.observed,
                                stdout=run.stdout[-OUTPUT_TAIL_CHARS:], stderr=run.stderr[-OUTPUT_TAIL_CHARS:])
        if verdict.problems:
            result.outcome = Outcome.FAILED
            result.message = verdict.problems[0]
            result.failure = Failure(summary=verdict.problems[0], problems=verdict.problems[1:], diff="\n".join(verdict.diffs),
                                     stderr_tail=run.stderr_tail(), server_view=self._server_view(ctx),
                                     reproduce=self.reproduce_command(example, scenario.name))
        return result

    def _protocol_problems(self, run: ProcessRun, scenario: Scenario, check: Any, verdict: Verdict,
                           timeout: float) -> dict[str, Any] | None:
        """Problems with how the example ran and spoke, before its data is judged."""
        if run.start_error:
            verdict.fail(run.start_error + " (check run.command in example.yaml)")
            return None
        if run.timed_out:
            hint = getattr(check, "timeout_hint", "")
            verdict.fail(f"timed out after {timeout:.0f} s; its process group was killed"
                         + (f": {hint}" if hint else ""))
        if run.checkpoint_error:
            verdict.fail(run.checkpoint_error)
        if run.exit_code not in (0, None) and not run.timed_out:
            verdict.fail(f"exited with code {run.exit_code}" + (" (crashed: killed by a signal)" if run.exit_code < 0 else ""))
        if run.bad_lines:
            verdict.fail(f"printed {len(run.bad_lines)} line(s) on stdout that are not JSON objects, first: "
                         f"{run.bad_lines[0][:120]!r} (human output belongs on stderr)")
        if run.partial_line.strip():
            verdict.fail(f"stdout ended in half a line: {run.partial_line[:120]!r} (end each line with a newline)")
        if run.stdout_truncated:
            verdict.fail("flooded stdout: output beyond 1 MiB was discarded")
        results = run.results
        if not results:
            if not run.timed_out and not run.stdout.strip():
                verdict.fail("printed nothing on stdout" + (" (it wrote only to stderr)" if run.stderr.strip() else ""))
            elif not run.timed_out:
                verdict.fail('printed no {"type": "result", ...} line')
            return None
        if len(results) > 1:
            verdict.fail(f"printed {len(results)} result lines; exactly one is expected")
        result = results[-1]
        if result.get("scenario") != scenario.name:
            verdict.fail(f"the result is for scenario {result.get('scenario')!r}, expected {scenario.name!r}")
        data = result.get("data")
        if not isinstance(data, dict):
            verdict.fail(f"the result's data must be an object, got {data!r:.80}")
            return None
        return data

    def _server_view(self, ctx: CaseContext) -> str:
        mine = ctx.my_log()
        connections = ctx.connections_authorized()
        errors = [r for r in mine if r.severity in ("ERROR", "FATAL", "PANIC")]
        statements = [r.message for r in mine if r.message.startswith(("statement:", "execute"))]
        lines = [f"role {ctx.db.role}, database {ctx.db.dbname}",
                 f"connections opened: {len(connections)}; peak backends sampled: {ctx.timeline.peak}; "
                 f"backends left after exit: {ctx.backends_left}"]
        lines += [f"{r.severity} {r.state_code}: {r.message[:160]}" for r in errors[:6]]
        if statements:
            lines.append(f"statements ({len(statements)}), last ones:")
            lines += [f"  {s[:160]}" for s in statements[-5:]]
        return "\n".join(lines)
