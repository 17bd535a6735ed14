"""What a check sees of its case: a read-only record of what was observed, plus the small
controls interface for the actions a scenario takes on the server. Checks never hold a
connection string, a server or the janitor, so they can be tested with a fake (tests/fakes.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from harness.observe import ActivityTimeline, LogRecord
from harness.statements import StatementCount
from harness.statements import count as count_statements
from harness.pooler import DIRECT_TOPOLOGY, Topology
from harness.pooler.log import PoolerRecord, open_clients_peak

if TYPE_CHECKING:
    from harness.janitor import CaseDatabase
    from harness.manifest import Example
    from harness.process import ProcessRun
    from harness.spec import Scenario, Spec


class CaseControls(Protocol):
    """The case's hold on the server, limited to its own role and database.

    Actions (undone by the harness when the case ends): a connection limit for the role, the
    hostssl-only group, a server restart, terminating the case's backends. Looks: the case
    database's client backends (now, or until they are gone), their TLS state, and a query in the
    case database as the superuser."""

    def set_connection_limit(self, limit: int | None) -> None: ...

    def connection_limit_set(self) -> bool:
        """The check set the role's connection limit for this case (else: the spec's fair share)."""

    def force_hostssl(self, on: bool) -> None: ...

    def restart_server(self) -> None: ...

    def set_pooler_pool_size(self, size: int | None) -> None:
        """PgBouncer's server pool for the case database: at most `size` server connections
        (None: back to the default); nothing straight to the server."""

    def set_case_setting(self, name: str, value: str) -> None:
        """A setting for the role in the case database only (gone with the database)."""

    def terminate_backends(self) -> int:
        """Terminates every backend of the case database; returns how many."""

    def backends(self) -> list[tuple[int, str]]:
        """(pid, state) of each client backend of the case database."""

    def wait_backends_gone(self, within: float, floor: int = 0) -> tuple[bool, float, int]:
        """Polls until at most `floor` backends remain: (reached, seconds taken, count left)."""

    def tls_backends(self) -> list[dict[str, Any]]:
        """pg_stat_ssl of each client backend of the case database: pid, ssl, version, cipher."""

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def statement_stats(self) -> tuple[tuple[str, int], ...]:
        """pg_stat_statements of the case's role in its database now: (normalized text, calls)."""

    def server_clock(self) -> datetime:
        """The server's clock as its log writes it (naive UTC), to cut the log at a checkpoint."""

    def wait_connections_gone(self, within: float, floor: int = 0) -> tuple[bool, float, int]:
        """The example's own connections: its backends straight to the server, its client
        connections at PgBouncer through a pooler (whose server connections stay, by design)."""

    def pooler_clients(self) -> list[dict[str, Any]]:
        """PgBouncer's SHOW CLIENTS rows for the case database ([] straight to the server)."""

    def reconnect_pooler(self) -> bool:
        """PgBouncer closes the case's server connections as they are released, so a client's next
        transaction gets a new one (RECONNECT); False straight to the server, where it does nothing."""

    def pooler_servers(self) -> list[dict[str, Any]]:
        """PgBouncer's SHOW SERVERS rows for the case database ([] straight to the server)."""

    def pooler_pool(self) -> dict[str, Any]:
        """PgBouncer's SHOW POOLS row of the case database ({} straight to the server)."""

    def pooler_stats(self) -> dict[str, Any]:
        """PgBouncer's SHOW STATS row of the case database ({} straight to the server)."""

    # The cutover story (pooled cases only); undone when the case ends: RESUMEd, the database
    # pointed back at the run's server, PgBouncer's settings restored, the target dropped.
    def cutover_target(self) -> None:
        """The case database on the run's second server (started on first use): the fixture,
        the same role with the same SCRAM secret."""

    def pooler_pause(self) -> float:
        """PAUSE the case database at PgBouncer; the seconds PAUSE took to return."""

    def pooler_resume(self) -> None: ...

    def pooler_route_to_target(self, on: bool) -> None:
        """Points the case database at the second server (False: back at the run's), RELOAD."""

    def pooler_configure(self, name: str, value: str | None) -> None:
        """A PgBouncer setting (global: an exclusive case's), None for the harness's own; RELOAD."""

    def pooler_setting(self, name: str) -> str:
        """A PgBouncer setting as it runs now (SHOW CONFIG)."""

    def query_target(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """A query in the case database on the second server, as its superuser."""


@dataclass(frozen=True)
class Observation:
    """What the harness recorded around the example's process."""

    process: "ProcessRun | None" = None
    log: tuple[LogRecord, ...] = ()
    timeline: ActivityTimeline = field(default_factory=ActivityTimeline)
    backends_left: int = 0
    server_time_before: datetime | None = None
    server_time_after: datetime | None = None
    # pg_stat_statements of the case's role in its database: (normalized text, calls).
    statement_stats: tuple[tuple[str, int], ...] = ()
    # Connections of the example's role still open after its process ended (now terminated).
    leftover_backends: tuple[str, ...] = ()
    # PgBouncer's log during the case (a pooled case): the client side of its connections.
    pooler_log: tuple[PoolerRecord, ...] = ()
    # Protected files (spec, harness, examples' sources) that changed while it ran (harness.tamper).
    tampered: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseContext:
    example: "Example"
    scenario: "Scenario"
    spec: "Spec"
    db: "CaseDatabase"
    controls: CaseControls
    observation: Observation = field(default_factory=Observation)
    topology: Topology = DIRECT_TOPOLOGY   # harness.pooler: direct, or through PgBouncer (version, mode, fix)

    @property
    def pooled(self) -> bool:
        return self.topology.pooled

    def observed(self, observation: Observation) -> "CaseContext":
        """The same case once the process has ended and the server's record is read."""
        return replace(self, observation=observation)

    @property
    def params(self) -> dict[str, Any]:
        return self.scenario.params

    @property
    def process(self) -> "ProcessRun | None":
        return self.observation.process

    @property
    def log(self) -> tuple[LogRecord, ...]:
        return self.observation.log

    @property
    def timeline(self) -> ActivityTimeline:
        return self.observation.timeline

    @property
    def backends_left(self) -> int:
        return self.observation.backends_left

    @property
    def server_time_before(self) -> datetime | None:
        return self.observation.server_time_before

    @property
    def server_time_after(self) -> datetime | None:
        return self.observation.server_time_after

    def statements(self) -> StatementCount:
        """Every statement the case's role ran, counted (harness.statements)."""
        return count_statements(self.observation.statement_stats, self.my_log())

    def query_case_db(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.controls.query(sql, params)

    def my_log(self) -> list[LogRecord]:
        return [r for r in self.log if r.dbname == self.db.dbname or r.user == self.db.role]

    def connections_authorized(self) -> list[LogRecord]:
        return [r for r in self.my_log() if r.message.startswith("connection authorized")]

    def served_by_server(self) -> set[int]:
        """The backends the server logged serving the case's role during the case: the ones that
        logged in then and, through PgBouncer, also the pooled ones already open that ran its
        statements (a warm pool's server connections predate the case)."""
        served = {r.pid for r in self.connections_authorized()}
        if self.pooled:
            served |= {r.pid for r in self.my_log() if r.message.startswith(("statement:", "execute"))}
        return served

    def reached_server(self) -> bool:
        """The example really logged in as its role during the case: a session of the role
        authorized by the server or, through PgBouncer, the client's login there (PgBouncer checks
        the SCRAM proof itself; its server connections may predate the case, in a warm pool)."""
        return bool(self.pooler_logins()) if self.pooled else bool(self.connections_authorized())

    # -- the client side, through a pooler ------------------------------------------------------
    def my_pooler_log(self) -> list[PoolerRecord]:
        return [r for r in self.observation.pooler_log if r.database == self.db.dbname]

    def pooler_logins(self) -> list[PoolerRecord]:
        """The example's client logins at PgBouncer (each a fresh client connection)."""
        return [r for r in self.my_pooler_log() if r.is_login]

    def pooler_client_peak(self) -> tuple[int, int]:
        """(most client connections of the example open at once at PgBouncer, logins in all)."""
        return open_clients_peak(self.my_pooler_log())

    def pooler_handshake_errors(self) -> list[PoolerRecord]:
        """TLS handshakes PgBouncer saw fail during the case (its log names no database for them)."""
        return [r for r in self.observation.pooler_log if r.message.startswith("TLS handshake error")]
