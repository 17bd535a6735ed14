"""What the server saw: its JSON log (connections, statements, errors) and pg_stat_activity
sampled during a case. Everything is read through SQL as the superuser, so the
same code serves a local cluster and a container."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql

from harness.admin_connections import ADMIN_CONNECTIONS, admin_connection

LOG_FILE = "log/postgresql.json"
READ_CHUNK = 8 * 1024 * 1024
LOG_BARRIER_SECONDS = 2.0
BARRIER_PREFIX = "pg-sample-harness: the log is read through "


@dataclass(frozen=True)
class LogRecord:
    timestamp: datetime
    user: str
    dbname: str
    pid: int
    severity: str
    message: str
    state_code: str

    @classmethod
    def parse(cls, line: str) -> "LogRecord | None":
        try:
            raw = json.loads(line)
        except ValueError:
            return None
        stamp = raw.get("timestamp", "")
        try:
            when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f %Z")
        except ValueError:
            when = datetime.min
        return cls(when, raw.get("user", ""), raw.get("dbname", ""), int(raw.get("pid", 0)),
                   raw.get("error_severity", ""), raw.get("message", ""), raw.get("state_code", ""))


def parse_lines(lines: list[bytes]) -> list[LogRecord]:
    records = [LogRecord.parse(line.decode("utf-8", errors="replace")) for line in lines]
    return [r for r in records if r is not None]


class ServerLog:
    """Follows the server's JSON log by byte offset; a case reads what was logged since it began."""

    def __init__(self, admin_conninfo: str) -> None:
        self._conninfo = admin_conninfo
        self._lock = threading.Lock()

    def _size(self) -> int:
        with admin_connection(self._conninfo) as conn:
            row = conn.execute("SELECT size FROM pg_stat_file(%s, true)", [LOG_FILE]).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _mark(self) -> str:
        """Logs a marker now (through the logging collector's pipe, behind every line logged
        before it) and returns its message."""
        marker = f"{BARRIER_PREFIX}{secrets.token_hex(8)}"
        with admin_connection(self._conninfo) as conn:
            conn.execute(sql.SQL("DO $$BEGIN RAISE LOG {}; END$$").format(sql.Literal(marker)))
        return marker

    def end_offset(self, within: float = LOG_BARRIER_SECONDS) -> int:
        """Where a case's window begins: just after a marker logged now. The file's size alone is
        not the end of what was logged: the logging collector may still hold lines written before
        the case (a warm pool's `connection authorized`, by PgBouncer's server connections that
        were logged in before the case), which would then land inside the case's window as if the
        case had made them. The marker reaches the file after every one of them."""
        read_to = self._size()
        marker = self._mark()
        deadline = time.monotonic() + within
        while True:
            lines = self._read_lines(read_to)
            for line in lines:
                read_to += len(line)
                if marker.encode() in line:
                    return read_to
            if time.monotonic() >= deadline:
                return read_to
            time.sleep(0.005)

    def _read_lines(self, offset: int) -> list[bytes]:
        """The whole lines logged from `offset` on."""
        with self._lock, admin_connection(self._conninfo) as conn:
            # bytea, not text: a read that ends inside a multi-byte character must not fail.
            data = bytearray()
            while True:
                chunk = conn.execute("SELECT pg_read_binary_file(%s, %s, %s, true)",
                                     [LOG_FILE, offset + len(data), READ_CHUNK]).fetchone()[0]
                if not chunk:
                    break
                data += chunk
                if len(chunk) < READ_CHUNK:
                    break
        return bytes(data[: data.rfind(b"\n") + 1]).splitlines(keepends=True)

    def read_through(self, offset: int, dbname: str | None = None,
                     within: float = LOG_BARRIER_SECONDS) -> list[LogRecord]:
        """What was logged since `offset`, up to a marker the harness logs now: every backend
        writes its lines to the logging collector's one pipe, which writes them in order, so once
        the marker is in the file so is everything logged before it (a refused login's FATAL).
        A backend's "disconnection" line is the exception: it is written after the backend has
        left pg_stat_activity (on_proc_exit runs after shmem_exit), so a case whose backends are
        gone may still be owed their last lines. For `dbname`, the read also waits for the
        disconnection of every backend that was authorized, is no longer in pg_stat_activity and
        was not refused (FATAL: it logs no disconnection). `within`: the longest wait for both."""
        marker = self._mark()
        deadline = time.monotonic() + within
        records: list[LogRecord] = []
        read_to = offset
        marked = False
        while True:
            lines = self._read_lines(read_to)
            more = parse_lines(lines)
            records += more
            read_to += sum(len(line) for line in lines)
            marked = marked or any(r.message == marker for r in more)
            if marked and (dbname is None or not self._owed_disconnections(records, dbname)):
                return records
            if time.monotonic() >= deadline:
                return records
            time.sleep(0.005)

    def _owed_disconnections(self, records: list[LogRecord], dbname: str) -> set[int]:
        authorized = {r.pid for r in records if r.dbname == dbname and r.message.startswith("connection authorized")}
        ended = {r.pid for r in records if r.dbname == dbname
                 and (r.message.startswith("disconnection") or r.severity in ("FATAL", "PANIC"))}
        owed = authorized - ended
        if not owed:
            return owed
        with admin_connection(self._conninfo) as conn:
            alive = {int(pid) for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity").fetchall()}
        return owed - alive


@dataclass
class ActivitySample:
    t: float
    backends: int
    states: dict[str, int]
    # Each backend's state at this sample (pid -> state, '' while it starts), and the server's
    # clock when it was taken (naive UTC, as the log writes it): the replay's lanes and its
    # alignment of the connection log (harness.activity_record).
    by_pid: dict[int, str] = field(default_factory=dict)
    server_clock: datetime | None = None


@dataclass
class ActivityTimeline:
    samples: list[ActivitySample] = field(default_factory=list)
    t0: float = 0.0   # time.monotonic() of t = 0: a check's own moments on the samples' clock

    @property
    def peak(self) -> int:
        return max((s.backends for s in self.samples), default=0)

    def compact(self) -> list[list[float]]:
        """[[seconds, backends], ...] with repeated counts dropped: small enough for results.json."""
        points: list[list[float]] = []
        for sample in self.samples:
            if not points or points[-1][1] != sample.backends:
                points.append([round(sample.t, 3), sample.backends])
        if self.samples:
            points.append([round(self.samples[-1].t, 3), self.samples[-1].backends])
        return points


ACTIVITY_SQL = (
    "SELECT pid, coalesce(state, '') FROM pg_stat_activity "
    "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


# One query a tick for every database watched: datname is the key the samples are split by. The
# one-row LEFT JOIN gives the server's clock also on a tick that sees no backend.
WATCHED_SQL = (
    "SELECT clock_timestamp() AT TIME ZONE 'UTC', a.datname, a.pid, coalesce(a.state, '') FROM (SELECT) AS tick "
    "LEFT JOIN pg_stat_activity a ON a.datname = ANY(%s) AND a.backend_type = 'client backend' "
    "AND a.pid <> pg_backend_pid()"
)
SAMPLE_INTERVAL = 0.025


class ActivitySampler:
    """The case database's client backends, sampled every SAMPLE_INTERVAL seconds from the time it
    is entered until it is left. The samplers of one server share one thread and one query a
    tick (_SharedSampling): eight cases at once cost one query, not eight, 40 times a second."""

    def __init__(self, admin_conninfo: str, dbname: str) -> None:
        self._conninfo = admin_conninfo
        self.dbname = dbname
        self.timeline = ActivityTimeline()
        self.t0 = time.monotonic()

    def __enter__(self) -> "ActivitySampler":
        self.t0 = self.timeline.t0 = time.monotonic()
        _SharedSampling.of(self._conninfo).watch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _SharedSampling.of(self._conninfo).unwatch(self)   # no sample is added after this returns


class _SharedSampling:
    """One thread per server, running while any ActivitySampler of it is entered."""

    _by_conninfo: dict[str, "_SharedSampling"] = {}
    _registry_lock = threading.Lock()

    @classmethod
    def of(cls, conninfo: str) -> "_SharedSampling":
        with cls._registry_lock:
            return cls._by_conninfo.setdefault(conninfo, cls(conninfo))

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._lock = threading.Lock()
        self._watchers: list[ActivitySampler] = []
        self._running = False

    def watch(self, sampler: ActivitySampler) -> None:
        with self._lock:
            self._watchers.append(sampler)
            if not self._running:   # the thread ends when nobody watches; a new watcher starts it
                self._running = True
                threading.Thread(target=self._loop, name="activity-sampler", daemon=True).start()

    def unwatch(self, sampler: ActivitySampler) -> None:
        with self._lock:
            if sampler in self._watchers:
                self._watchers.remove(sampler)

    def _loop(self) -> None:
        conn: psycopg.Connection | None = None
        try:
            while True:
                with self._lock:
                    if not self._watchers:
                        self._running = False   # decided under the lock watch() starts a thread under
                        return
                    names = sorted({w.dbname for w in self._watchers})
                try:
                    if conn is None or conn.closed:
                        conn = ADMIN_CONNECTIONS.take(self._conninfo, connect_timeout=2)
                    rows = conn.execute(WATCHED_SQL, [names]).fetchall()
                except psycopg.Error:
                    # The server restarts in some scenarios: keep sampling once it is back.
                    if conn is not None:
                        conn.close()
                    conn = None
                else:
                    self._record(names, rows)
                time.sleep(SAMPLE_INTERVAL)
        except BaseException:
            with self._lock:   # died of an error nobody expected: the next watcher starts a thread anew
                self._running = False
            raise
        finally:
            if conn is not None:
                ADMIN_CONNECTIONS.give(self._conninfo, conn)

    def _record(self, names: list[str], rows: list[tuple[datetime, str | None, int | None, str]]) -> None:
        now = time.monotonic()
        clock = rows[0][0] if rows else None
        states: dict[str, dict[str, int]] = {name: {} for name in names}
        by_pid: dict[str, dict[int, str]] = {name: {} for name in names}
        for _clock, dbname, pid, state in rows:
            if dbname is None or pid is None:
                continue   # the tick's own row: no backend of a watched database
            states[dbname][state] = states[dbname].get(state, 0) + 1
            by_pid[dbname][int(pid)] = state
        with self._lock:   # a watcher that left meanwhile gets nothing more
            for watcher in self._watchers:
                seen = states.get(watcher.dbname)
                if seen is not None:
                    watcher.timeline.samples.append(ActivitySample(now - watcher.t0, sum(seen.values()), seen,
                                                                   by_pid[watcher.dbname], clock))


def backends_of(admin_conninfo: str, dbname: str) -> list[tuple[int, str]]:
    with admin_connection(admin_conninfo) as conn:
        return [(int(p), s) for p, s in conn.execute(ACTIVITY_SQL, [dbname]).fetchall()]


def wait_backends_gone(admin_conninfo: str, dbname: str, within: float, floor: int = 0) -> tuple[bool, float, int]:
    """Polls until at most `floor` backends remain. Returns (reached, seconds taken, count left)."""
    start = time.monotonic()
    with admin_connection(admin_conninfo) as conn:  # one connection for every poll
        while True:
            left = len(conn.execute(ACTIVITY_SQL, [dbname]).fetchall())
            elapsed = time.monotonic() - start
            if left <= floor:
                return True, elapsed, left
            if elapsed >= within:
                return False, elapsed, left
            time.sleep(0.02)


def terminate_backends(admin_conninfo: str, dbname: str) -> int:
    with admin_connection(admin_conninfo) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [dbname]).fetchall()
    return len(rows)

