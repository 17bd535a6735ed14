"""Every statement of a case counted: the scenario's work apart from the driver's housekeeping,
the round trips, and a histogram of statement shapes (the same statement with other parameters
is one shape).

Two records of the server are read. The verdict uses pg_stat_statements: the server itself
normalizes each statement (constants, bound or spliced by the client, become $n), so a psycopg2
query with its values quoted into the text and a pgjdbc query with `$1` both fall into one shape
each, with no SQL parsing in the harness. The statement log (log_statement = all) counts the
round trips (one line per simple Query or extended-protocol Execute) and is the cross-check: it
also sees statements that failed, which pg_stat_statements leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from harness.admin_connections import admin_connection
from harness.observe import LogRecord

# The drivers' own statements: what they send around the sample's work, in one table (pattern on
# the server's normalized text, case-insensitive; why it is housekeeping). A new driver with other
# housekeeping adds its line here.
HOUSEKEEPING: tuple[tuple[str, str], ...] = (
    (r"^(begin|start transaction|commit|rollback|end|abort|savepoint|release)\b",
     "transaction control (psycopg2 opens a transaction before the first statement)"),
    (r"^(set|reset)\b", "session settings (pgjdbc: extra_float_digits, application_name)"),
    (r"^show\b", "settings read by a dialect (SQLAlchemy: standard_conforming_strings, isolation level)"),
    (r"^select\s+(pg_catalog\.)?version\(\)", "server version (SQLAlchemy's first connect)"),
    (r"^select\s+current_schema\(\)", "current schema (SQLAlchemy's first connect)"),
    (r"^select\b[\s\S]*?\bfrom\s+(pg_catalog\.)?pg_type\b",
     "type lookups (SQLAlchemy's psycopg2 dialect looks up hstore at first connect; postgres.js its array types on every new connection)"),
    (r"^select\s+(\$1|1)\s*$", "pool validation / pre-ping (SQLAlchemy pool_pre_ping, HikariCP)"),
    (r"^discard\s+all", "session reset on return to a pool"),
    (r"^(select\s+pg_advisory_unlock_all\(\)|close\s+all|unlisten\s+\*)\s*$",
     "session reset on return to a pool (asyncpg's Connection.reset: these, then RESET ALL)"),
    (r"^with\s+recursive\s+typeinfo_tree\b", "type introspection (asyncpg, for an array or a non-builtin type)"),
    (r"^select\s+current_setting\(\$1\)\s+as\s+cur,\s*set_config\(\$2,\s*\$3,\s*\$4\)\s+as\s+new\s*$",
     "jit off around its type introspection (asyncpg)"),
    (r"^select\s+set_config\(\$2,\s*\$1,\s*\$3\)\s*$", "jit restored after its type introspection (asyncpg)"),
)
_HOUSEKEEPING = [(re.compile(pattern, re.IGNORECASE), why) for pattern, why in HOUSEKEEPING]

# Top shapes kept in results.json per case.
TOP_SHAPES = 5

STATS_SQL = """
SELECT s.query, s.calls::bigint
FROM pg_stat_statements s
JOIN pg_database d ON d.oid = s.dbid
JOIN pg_roles r ON r.oid = s.userid
WHERE d.datname = %s AND r.rolname = %s AND s.toplevel
"""


def housekeeping_reason(shape: str) -> str | None:
    text = shape.strip().rstrip(";").strip()
    for pattern, why in _HOUSEKEEPING:
        if pattern.search(text):
            return why
    return None


def read_statement_stats(conninfo: str, dbname: str, role: str) -> tuple[tuple[str, int], ...]:
    """(normalized text, calls) of every shape the role ran at top level in the case database."""
    with admin_connection(conninfo) as conn:
        rows = conn.execute(STATS_SQL, [dbname, role]).fetchall()
    return tuple((str(q), int(c)) for q, c in rows)


def statement_text(message: str) -> str | None:
    """The SQL of a statement-log line (`statement: ...` or `execute <name>: ...`), else None."""
    if message.startswith("statement: "):
        return message[len("statement: "):].strip()
    if message.startswith("execute ") and ": " in message:
        return message.split(": ", 1)[1].strip()
    return None


@dataclass(frozen=True)
class Shape:
    text: str
    calls: int
    housekeeping: str | None = None   # why it is the driver's, not the scenario's

    def to_json(self) -> dict[str, Any]:
        return {"shape": self.text, "calls": self.calls, "housekeeping": self.housekeeping is not None}


@dataclass(frozen=True)
class StatementCount:
    shapes: tuple[Shape, ...]   # most calls first
    round_trips: int            # statement-log lines: one per simple Query or Execute
    logged: int                 # statement-log lines that carried SQL (the cross-check)

    @property
    def work(self) -> int:
        return sum(s.calls for s in self.shapes if s.housekeeping is None)

    @property
    def housekeeping(self) -> int:
        return sum(s.calls for s in self.shapes if s.housekeeping is not None)

    @property
    def total(self) -> int:
        return self.work + self.housekeeping

    @property
    def work_shapes(self) -> list[Shape]:
        return [s for s in self.shapes if s.housekeeping is None]

    def to_json(self) -> dict[str, Any]:
        return {"work": self.work, "housekeeping": self.housekeeping, "round_trips": self.round_trips,
                "logged": self.logged, "shapes": len(self.shapes),
                "top": [s.to_json() for s in self.shapes[:TOP_SHAPES]]}


def count(stats: Iterable[tuple[str, int]], log: Iterable[LogRecord]) -> StatementCount:
    merged: dict[str, int] = {}
    for text, calls in stats:
        shape = " ".join(text.split())
        merged[shape] = merged.get(shape, 0) + calls
    shapes = tuple(sorted((Shape(t, c, housekeeping_reason(t)) for t, c in merged.items()),
                          key=lambda s: (-s.calls, s.text)))
    logged = [text for text in (statement_text(r.message) for r in log) if text is not None]
    return StatementCount(shapes=shapes, round_trips=len(logged), logged=len([t for t in logged if t]))


def abbreviated(shape: str, width: int = 110) -> str:
    """A shape short enough for a message: the select list folded to `…` when the line is long."""
    text = shape
    if len(text) > width:
        text = re.sub(r"(?is)^(select)\s+.*?\s+(from)\s", r"\1 … \2 ", text, count=1)
    return text if len(text) <= width else text[: width - 1] + "…"


ONE_QUERY_ADVICE = "load them in one query (a JOIN, `= ANY($1)`, or the ORM's eager loading)"


def over_limit_problem(counted: StatementCount, limit: int, scenario: str) -> str | None:
    """The failure of a case whose work took more statements than its spec allows, naming the
    shape that repeated and what to do instead."""
    if counted.work <= limit:
        return None
    head = f"{counted.work} statements for the work of {scenario}, at most {limit} allowed (spec max_statements)"
    repeated = [s for s in counted.work_shapes if s.calls > 1]
    if not repeated:
        return head + ": do the work in fewer statements"
    top = repeated[0]
    return (f"{head}: `{abbreviated(top.text)}` ran {top.calls} times, a query repeated per row (an N+1); "
            + ONE_QUERY_ADVICE)


def summary_lines(counted: StatementCount) -> list[str]:
    """The figures for a failure's reader: the buckets, then the top shapes with their calls."""
    lines = [f"statements: {counted.work} of work, {counted.housekeeping} housekeeping, "
             f"{counted.round_trips} round trips (pg_stat_statements; the log has {counted.logged})"]
    lines += [f"  {s.calls:>4} × {abbreviated(s.text, 140)}" + (" (housekeeping)" if s.housekeeping else "")
              for s in counted.shapes[:TOP_SHAPES]]
    return lines
