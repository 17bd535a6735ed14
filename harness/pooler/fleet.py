"""The run's poolers: one PgBouncer per pooled topology (its version and pool mode; a driver fix
runs through the same one), started when its first case needs it (in front of the run's server)
and stopped, with everything it made, when the session closes. Where each runs (on this machine,
or in a container) is the backend's choice (make_process); what its version sets beyond the
harness's own settings, spec/pgbouncer.yaml's (settings_of)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.pooler import Topology, topology as as_topology
from harness.pooler.pgbouncer import PgBouncer
from harness.pooler.process import PoolerProcess
from harness.server.base import Endpoint, PostgresServer

# topology -> where that PgBouncer runs (None: natively, PgBouncer's default)
ProcessFactory = Callable[[Topology], "PoolerProcess | None"]
SettingsOf = Callable[[Topology], dict[str, str]]


class Poolers:
    def __init__(self, make_process: ProcessFactory | None = None, settings_of: SettingsOf | None = None) -> None:
        self._running: dict[Topology, PgBouncer] = {}
        self._lock = threading.Lock()   # cases of several examples (-j) may ask at once
        self._make_process = make_process or (lambda _topology: None)
        self._settings_of = settings_of or (lambda _topology: {})
        self.versions: dict[str, str] = {}   # topology version ("1.24") -> PgBouncer's own ("1.24.1"), once started

    @property
    def version(self) -> str:
        """The versions of PgBouncer that ran, as one line ("1.18.0, 1.24.1"; "" if none)."""
        return ", ".join(self.versions[v] for v in sorted(self.versions) if self.versions[v])

    def get(self, where: Topology | str, server: PostgresServer) -> PgBouncer:
        base = as_topology(where).base
        with self._lock:
            pooler = self._running.get(base)
            if pooler is None:
                pooler = PgBouncer(server, base.pool_mode, settings=self._settings_of(base),
                                   process=self._make_process(base), version=base.version)
                # Known before it starts: a Ctrl-C during start still reaches stop().
                self._running[base] = pooler
                pooler.start()
                self.versions.setdefault(base.version, pooler.process.version())
            return pooler

    def endpoint(self, where: Topology | str, server: PostgresServer) -> Endpoint:
        chosen = as_topology(where)
        return self.get(chosen, server).endpoint if chosen.pooled else server.endpoint

    def running(self) -> dict[str, PgBouncer]:
        return {t.label: p for t, p in self._running.items()}

    def stop_all(self) -> None:
        with self._lock:
            running, self._running = list(self._running.values()), {}
        for pooler in running:
            pooler.stop()
