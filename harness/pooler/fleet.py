"""The run's poolers: one PgBouncer per pooled topology, started when its first case needs it
(in front of the run's server) and stopped, with everything it made, when the session closes."""

from __future__ import annotations

import threading

from harness.pooler import DIRECT, POOLER_MODES
from harness.pooler.pgbouncer import PgBouncer
from harness.server.base import Endpoint, PostgresServer


class Poolers:
    def __init__(self) -> None:
        self._running: dict[str, PgBouncer] = {}
        self._lock = threading.Lock()   # cases of several examples (-j) may ask at once

    def get(self, topology: str, server: PostgresServer) -> PgBouncer:
        with self._lock:
            pooler = self._running.get(topology)
            if pooler is None:
                pooler = PgBouncer(server, POOLER_MODES[topology])
                # Known before it starts: a Ctrl-C during start still reaches stop().
                self._running[topology] = pooler
                pooler.start()
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
