"""The run's poolers: one PgBouncer per pooled topology, started when its first case needs it
(in front of the run's server) and stopped, with everything it made, when the session closes.
Where each runs (on this machine, or in a container) is the backend's choice (make_process)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from harness.pooler import DIRECT, POOLER_MODES
from harness.pooler.pgbouncer import PgBouncer
from harness.pooler.process import PoolerProcess
from harness.server.base import Endpoint, PostgresServer

# pool mode -> where that PgBouncer runs (None: natively, PgBouncer's default)
ProcessFactory = Callable[[str], "PoolerProcess | None"]


class Poolers:
    def __init__(self, make_process: ProcessFactory | None = None) -> None:
        self._running: dict[str, PgBouncer] = {}
        self._lock = threading.Lock()   # cases of several examples (-j) may ask at once
        self._make_process = make_process or (lambda _mode: None)
        self.version = ""               # PgBouncer's version, once one has started

    def get(self, topology: str, server: PostgresServer) -> PgBouncer:
        with self._lock:
            pooler = self._running.get(topology)
            if pooler is None:
                mode = POOLER_MODES[topology]
                pooler = PgBouncer(server, mode, process=self._make_process(mode))
                # Known before it starts: a Ctrl-C during start still reaches stop().
                self._running[topology] = pooler
                pooler.start()
                self.version = self.version or pooler.process.version()
            return pooler

    def endpoint(self, topology: str, server: PostgresServer) -> Endpoint:
        return server.endpoint if topology == DIRECT else self.get(topology, server).endpoint

    def running(self) -> dict[str, PgBouncer]:
        return dict(self._running)

    def stop_all(self) -> None:
        with self._lock:
            running, self._running = list(self._running.values()), {}
        for pooler in running:
            pooler.stop()
