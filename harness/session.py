"""The run's resources, and only those: the server (with its TLS material), the janitor of its
databases, the server log reader, the builds and the gate that lets a restart case run alone.
Constructing a session does no I/O; `start()` brings the server up when a case first needs it.
How a case runs is harness.case; how the run is put together is harness.runner."""

from __future__ import annotations

import sys
import threading
from contextlib import ExitStack
from dataclasses import replace
from functools import cached_property

import psycopg

from harness.admin_connections import ADMIN_CONNECTIONS
from harness.backends import get_backend
from harness.backends.base import Executor
from harness.build import BuildResult
from harness.catalog import Catalog, load_catalog
from harness.config import Config
from harness.credentials import Credentials
from harness.errors import HarnessError, ServerDied
from harness.gate import CaseGate, GateClosed
from harness.interrupts import deferred
from harness.janitor import Janitor
from harness.manifest import Example
from harness.observe import ServerLog
from harness.pooler.fleet import Poolers
from harness.pooler.versions import version_settings
from harness.pooler.standby import StandbyServer
from harness.sandbox import run_notes
from harness.server.base import PostgresServer
from harness.spec import Spec
from harness.tamper import FirstUse, TamperEvidence, protected_tree
from harness.toolchain import ToolStatus


class HarnessSession:
    def __init__(self, config: Config, catalog: Catalog | None = None) -> None:
        self.config = config
        self._catalog = catalog
        self.backend = get_backend(config.backend)
        # The superuser's password and one per example role, never printed (harness.credentials).
        self.credentials = Credentials()
        self.server: PostgresServer | None = None
        self.janitor: Janitor | None = None
        self.server_log: ServerLog | None = None
        self.postgres_version = ""
        self.builds: dict[str, BuildResult] = {}
        self.missing: dict[str, list[ToolStatus]] = {}
        self.gate = CaseGate()
        # A PgBouncer per pooled topology (--via), started on first use, where the backend runs it.
        self.poolers = Poolers(lambda topology: self.backend.pooler_process(self.config, topology),
                               lambda topology: version_settings(self.config.paths.spec, topology.version))
        # The cutover story's second server, made like the first, started on first use.
        self.standby = StandbyServer(lambda: self.backend.make_server(self.config, self.credentials.superuser, "standby"),
                                     self.credentials.for_role)
        self._build_locks: dict[str, threading.Lock] = {}
        # The spec, the harness and the examples' sources, recorded before the first build (harness.tamper).
        self.tamper_record = FirstUse(lambda: protected_tree(config.paths.spec, config.paths.examples, [
            (e.id, e.folder, e.build_outputs) for e in self.examples], config.paths.root))

    @property
    def run_id(self) -> str:
        """Labels everything the docker backend makes for this run (containers, networks)."""
        return self.config.run_id

    @property
    def pooler_version(self) -> str:
        """PgBouncer's versions when the run goes through it ("1.18.0, 1.24.1"; "" for a direct-only run)."""
        if self.poolers.version:   # the ones that ran (on docker: the images')
            return self.poolers.version
        from harness.pooler.process import pgbouncer_version
        versions = sorted({t.version for t in self.config.via if t.pooled})
        try:
            return ", ".join(pgbouncer_version(version=v) for v in versions)
        except (HarnessError, OSError):
            return ""

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.config.paths)
        return self._catalog

    @property
    def spec(self) -> Spec:
        return self.catalog.spec

    @property
    def examples(self) -> list[Example]:
        return self.catalog.examples

    @cached_property
    def executor(self) -> Executor:
        return self.backend.make_executor(self.config)

    # -- server -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.server is not None:
            return
        if self.gate.closed:
            # A case worker still on its way when the run ended must not start a server anew.
            if threading.current_thread() is not threading.main_thread():
                raise GateClosed("the run is ending")
            self.gate.reopen()   # the session started again after close() (the tests' shared one)
        # What killed runs left (their owner is dead) goes first; live runs are never touched.
        for note in run_notes(self.executor):
            print(note, file=sys.stderr, flush=True)
        server = self.backend.make_server(self.config, self.credentials.superuser)
        # Known to the session before it starts: a Ctrl-C during initdb or pg_ctl start must
        # still reach server.stop() through close().
        self.server = server
        server.start()
        admin = server.admin
        with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
            self.postgres_version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
            major = int(conn.info.server_version // 10000)
        self.janitor = Janitor(admin.conninfo, self.credentials.for_role, major)
        self.janitor.load_template(self.spec.fixture)
        if not self.config.keep:   # --keep shows the case databases only
            # A spare database costs the server a few hundredths of a second in memory (harness.scratch).
            self.janitor.make_ahead(lambda: self.gate.enter(False, "harness::spare database", weight=0.15, seconds=0.5))
        self.server_log = ServerLog(admin.conninfo())

    def close(self) -> None:
        # Every step runs even if an earlier one fails; a second Ctrl-C waits until all are done.
        # ExitStack runs them last-registered first: the executor, the janitor, the poolers, the
        # second server, then the server.
        with deferred(), ExitStack() as steps:
            self.gate.close()   # nothing waiting for a turn at the server gets one now
            steps.callback(self._stop_server)
            steps.callback(self.standby.stop)
            steps.callback(self.poolers.stop_all)
            if self.janitor is not None:
                steps.callback(self.janitor.close)
            if "executor" in self.__dict__:  # made only once a case needed it
                steps.callback(self.executor.cleanup)

    def _stop_server(self) -> None:
        if self.server is not None:
            if self.server_log is not None:   # the server started: its reused connections go first
                ADMIN_CONNECTIONS.close_idle(self.server.admin.conninfo())
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

    def ensure_server_alive(self) -> None:
        if self.server is not None and not self.server.is_alive():
            raise ServerDied("the PostgreSQL server stopped during the run; its log ends with:\n"
                             + self.mask(self.server.log_tail(20)))

    def mask(self, text: str) -> str:
        """No password of the run reaches a log, a report or a terminal, even if an example prints it."""
        return self.credentials.mask(text)

    @property
    def tamper(self) -> TamperEvidence:
        return self.tamper_record.get()

    # -- builds -----------------------------------------------------------------------------
    def prepare_example(self, example: Example) -> None:
        """Check the toolchain and build, once per run (two workers on one example wait for one build)."""
        tamper = self.tamper   # recorded before the first build
        with self._build_locks.setdefault(example.id, threading.Lock()):
            if example.id in self.builds or example.id in self.missing:
                return
            missing = self.executor.missing_tools(example)
            if missing:
                self.missing[example.id] = missing
                return
            refused = tamper.refusal(example.id)
            if refused is not None:
                self.builds[example.id] = BuildResult(False, False, 0.0, "", message=refused)
                return
            watch = tamper.begin(f"the build of {example.id}")
            build = self.executor.build(example, force=self.config.rebuild)
            changed = tamper.end(watch)
            if changed and build.ok:
                build = replace(build, ok=False, message="; ".join(changed))
            self.builds[example.id] = build
