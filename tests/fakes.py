"""A fake of the case's controls and a builder of observed cases, so that the checks of
harness/scenarios can be tested without PostgreSQL (tests/test_checks.py). The real controls
(harness.case.controls) are exercised by the wrong examples in tests/bad_examples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from harness.case.context import CaseContext, Observation
from harness.janitor import CaseDatabase
from harness.manifest import Example
from harness.pooler import topology as as_topology
from harness.observe import ActivitySample, ActivityTimeline, LogRecord
from harness.pooler.log import PoolerRecord
from harness.process import ProcessRun
from harness.scenarios import REGISTRY, ScenarioCheck, Verdict
from harness.spec import load_spec
from tests.support import SPEC

SPEC_LOADED = load_spec(SPEC)
ROLE, DBNAME = "ex_fake_example", "db_fake_example_case"
T0 = datetime(2026, 3, 1, 12, 0, 0)  # naive, as the server's JSON log gives it (UTC)
T0_UTC = T0.replace(tzinfo=timezone.utc)


@dataclass
class FakeControls:
    """Records every action; answers every look from what the test put in."""

    backends_now: list[tuple[int, str]] = field(default_factory=list)
    tls_now: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # SQL substring -> rows
    gone: tuple[bool, float, int] = (True, 0.1, 0)
    actions: list[tuple[str, Any]] = field(default_factory=list)
    clock: datetime = T0
    stats: list[tuple[tuple[str, int], ...]] = field(default_factory=list)  # one per statement_stats() call
    # PgBouncer's console as the test sets it (a pooled case): SHOW CLIENTS/SERVERS rows, POOLS, STATS
    clients_now: list[dict[str, Any]] = field(default_factory=list)
    servers_now: list[dict[str, Any]] = field(default_factory=list)
    pool_now: dict[str, Any] = field(default_factory=dict)
    stats_now: dict[str, Any] = field(default_factory=dict)
    # The cutover story: the second server's rows (SQL substring -> rows), PgBouncer's settings.
    target_rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    pooler_settings: dict[str, str] = field(default_factory=dict)

    def set_connection_limit(self, limit: int | None) -> None:
        self.actions.append(("connection_limit", limit))

    def connection_limit_set(self) -> bool:
        limits = [limit for action, limit in self.actions if action == "connection_limit"]
        return bool(limits) and limits[-1] is not None

    def force_hostssl(self, on: bool) -> None:
        self.actions.append(("hostssl", on))

    def restart_server(self) -> None:
        self.actions.append(("restart", None))

    def set_pooler_pool_size(self, size: int | None) -> None:
        self.actions.append(("pooler_pool_size", size))

    def set_case_setting(self, name: str, value: str) -> None:
        self.actions.append(("setting", (name, value)))

    def terminate_backends(self) -> int:
        self.actions.append(("terminate", len(self.backends_now)))
        return len(self.backends_now)

    pooled: bool = False   # reconnect_pooler() answers whether a pooler is there

    def reconnect_pooler(self) -> bool:
        self.actions.append(("reconnect_pooler", self.pooled))
        return self.pooled

    def backends(self) -> list[tuple[int, str]]:
        return list(self.backends_now)

    def wait_backends_gone(self, within: float, floor: int = 0) -> tuple[bool, float, int]:
        self.actions.append(("wait_gone", within))
        return self.gone

    def tls_backends(self) -> list[dict[str, Any]]:
        return list(self.tls_now)

    def wait_connections_gone(self, within: float, floor: int = 0) -> tuple[bool, float, int]:
        self.actions.append(("wait_connections_gone", within))
        return self.gone

    def pooler_clients(self) -> list[dict[str, Any]]:
        return list(self.clients_now)

    def pooler_servers(self) -> list[dict[str, Any]]:
        return list(self.servers_now)

    def pooler_pool(self) -> dict[str, Any]:
        return dict(self.pool_now)

    def pooler_stats(self) -> dict[str, Any]:
        return dict(self.stats_now)

    def server_clock(self) -> datetime:
        return self.clock

    def cutover_target(self) -> None:
        self.actions.append(("cutover_target", None))

    def pooler_pause(self) -> float:
        self.actions.append(("pause", None))
        return 0.001

    def pooler_resume(self) -> None:
        self.actions.append(("resume", None))

    def pooler_route_to_target(self, on: bool) -> None:
        self.actions.append(("route_to_target", on))

    def pooler_configure(self, name: str, value: str | None) -> None:
        self.actions.append(("pooler_configure", (name, value)))
        if value is not None:
            self.pooler_settings[name] = value

    def pooler_setting(self, name: str) -> str:
        return self.pooler_settings.get(name, "")

    def query_target(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        self.actions.append(("query_target", sql))
        return next((rows for part, rows in self.target_rows.items() if part in sql), [])

    def statement_stats(self) -> tuple[tuple[str, int], ...]:
        self.actions.append(("statement_stats", None))
        return self.stats.pop(0) if self.stats else ()

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if sql.startswith("CREATE TABLE"):
            self.actions.append(("query", sql))
            return []
        for part, rows in self.rows.items():
            if part in sql:
                return rows
        raise AssertionError(f"the fake has no rows for {sql!r}")


def record(seconds: float, message: str, *, pid: int = 100, severity: str = "LOG", state: str = "00000",
           user: str = ROLE, dbname: str = DBNAME) -> LogRecord:
    return LogRecord(T0 + timedelta(seconds=seconds), user, dbname, pid, severity, message, state)


def pooler_client(client: int, opened: float, closed: float | None = None, tls: str = "no",
                  dbname: str = DBNAME) -> list[PoolerRecord]:
    """PgBouncer's log of one client connection: its login attempt and, if given, its close."""
    name = f"C-0x{client:x}"
    lines = [PoolerRecord(T0 + timedelta(seconds=opened), "LOG", name, dbname, ROLE,
                          f"login attempt: db={dbname} user={ROLE} tls={tls}")]
    if closed is not None:
        lines.append(PoolerRecord(T0 + timedelta(seconds=closed), "LOG", name, dbname, ROLE,
                                  "closing because: client close request (age=0s)"))
    return lines


def session_of(pid: int, opened: float, closed: float | None = None, tls: bool = False) -> list[LogRecord]:
    """The log lines of one backend: received, authorized (over TLS or not), and its disconnection."""
    ssl = " SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)" if tls else ""
    lines = [record(opened - 0.004, "connection received: host=127.0.0.1 port=5", pid=pid, user="", dbname=""),
             record(opened, f"connection authorized: user={ROLE} database={DBNAME}{ssl}", pid=pid)]
    if closed is not None:
        lines.append(record(closed, "disconnection: session time: 0:00:00.1", pid=pid))
    return lines


def timeline(*counts: int, state: str = "active") -> ActivityTimeline:
    return ActivityTimeline([ActivitySample(i * 0.025, n, {state: n} if n else {}) for i, n in enumerate(counts)])


def example() -> Example:
    return Example(id="fake/example", language="fake", title="t", driver_name="d", driver_version="1",
                   folder=SPEC, manifest=SPEC / "example.yaml", run_command=("true",))


def check_for(scenario: str, controls: FakeControls | None = None, *, topology: str = "direct",
              **example_fields: Any) -> ScenarioCheck:
    ctx = CaseContext(example=replace(example(), **example_fields), scenario=SPEC_LOADED.scenarios[scenario], spec=SPEC_LOADED,
                      db=CaseDatabase(ROLE, "secret", DBNAME), controls=controls or FakeControls(), topology=as_topology(topology))
    return REGISTRY[scenario](ctx)


def verify(check: ScenarioCheck, data: dict[str, Any], *, log: Sequence[LogRecord] = (),
           activity: ActivityTimeline | None = None, backends_left: int = 0,
           process: ProcessRun | None = None, stats: tuple[tuple[str, int], ...] = (),
           pooler_log: Sequence[PoolerRecord] = ()) -> Verdict:
    """The check's verdict on `data`, once the case was observed as given (`stats`: the role's
    pg_stat_statements at the end, as (normalized text, calls))."""
    observation = Observation(process=process, log=tuple(log), timeline=activity or ActivityTimeline(),
                              backends_left=backends_left, server_time_before=T0_UTC,
                              server_time_after=T0_UTC + timedelta(seconds=1), statement_stats=stats,
                              pooler_log=tuple(pooler_log))
    check.ctx = check.ctx.observed(observation)
    verdict = Verdict()
    check.verify(data, verdict)
    return verdict
