"""The core scenarios: what every sample on the page must do right."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any


from harness.canonical import canonical_values, parse_timestamp
from harness.observe import LogRecord
from harness.scenarios.base import ScenarioCheck, Verdict, scenario
from harness.statements import abbreviated, statement_text


def fixture_rows(check: ScenarioCheck, key: str) -> list[dict[str, Any]]:
    selector = check.expect[key]
    return check.ctx.spec.fixture.user_rows(selector.get("where", "all"))


def users_table_intact(check: ScenarioCheck, verdict: Verdict) -> None:
    """The server's own view of the users table equals the fixture: nothing injected, nothing dropped."""
    rows = check.ctx.query_case_db("SELECT id, name FROM users WHERE id < 1000 ORDER BY id")
    actual = [{"id": r[0], "name": r[1]} for r in rows]
    verdict.compare("users table on the server after the run", check.ctx.spec.fixture.user_rows(), actual)


@scenario("connect_now")
class ConnectNow(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        raw = data.get("now")
        if not verdict.require(isinstance(raw, str), f"data.now must be a timestamp string, got {raw!r}"):
            return
        try:
            now = parse_timestamp(raw)
        except ValueError as exc:
            verdict.fail(f"data.now {raw!r} does not parse as an ISO 8601 timestamp with offset ({exc})")
            return
        before, after = self.ctx.server_time_before, self.ctx.server_time_after
        skew = timedelta(seconds=float(self.expect.get("clock_skew_seconds", 5)))
        verdict.observed["now"] = now.isoformat()
        if before and after:
            verdict.require(before - skew <= now <= after + skew,
                            f"data.now {now.isoformat()} is not the server's clock "
                            f"({before.isoformat()} .. {after.isoformat()}, ± {skew.seconds} s)")
        gone_within = float(self.expect.get("backends_gone_within_seconds", 2))
        verdict.require(self.ctx.backends_left == 0,
                        f"{self.ctx.backends_left} backend(s) of the example still open {gone_within:.0f} s after it exited")


@scenario("select_rows")
class SelectRows(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        verdict.compare("data.rows", fixture_rows(self, "rows"), data.get("rows"))


@scenario("active_users")
class ActiveUsers(ScenarioCheck):
    """The rows, and how they were found: one statement that filters on `active` in its WHERE."""

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        verdict.compare("data.rows", fixture_rows(self, "rows"), data.get("rows"))
        work = self.ctx.statements().work_shapes
        unfiltered = [s for s in work if not re.search(r"\bwhere\b.*\bactive\b", s.text, re.IGNORECASE | re.DOTALL)]
        if len(work) == 1 and unfiltered:
            verdict.fail(f"`{abbreviated(work[0].text)}` has no filter on active: it fetched every user and "
                         f"filtered in {self.ctx.example.language}; put the filter in the SQL (WHERE active) "
                         "so the server sends only the active users")


@scenario("param_query")
class ParamQuery(ScenarioCheck):
    """Binding is proven, not trusted: a server-side binder's lookups show in the statement log as
    `execute <name>: ... $1` with the values apart; a client-side binder's as plain statements with
    quoted literals, run with the role's standard_conforming_strings = off, where a backslash
    escapes a quote: SQL built with hand-escaped quotes breaks on the spec's `\\' OR 1=1 --`,
    while a driver's own quoting (which reads the setting) survives it."""

    def prepare(self) -> None:
        self.ctx.controls.set_case_setting("standard_conforming_strings", "off")

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        verdict.compare("data.by_id", self.expect["by_id"], data.get("by_id"))
        if not verdict.compare("data.by_name", self.expect["by_name"], data.get("by_name")):
            verdict.fail("with standard_conforming_strings = off a backslash escapes a quote, so values quoted "
                         "by hand (quotes doubled) turn into SQL: bind them, or let the driver quote them")
        users_table_intact(self, verdict)
        observed = self.binding_mode()
        declared = self.ctx.example.binding
        verdict.observed.update(binding=observed, binding_declared=declared)
        manifest = self.ctx.example.manifest
        if declared is None:
            verdict.fail(f"{manifest}: driver.binding is missing; declare `binding: server` or `binding: client` "
                         f"under driver (the statement log shows {observed} binding)")
        elif observed == "unknown":
            verdict.fail("the statement log shows neither bound ($1) nor quoted lookups of users by id and name")
        elif observed == "mixed":
            verdict.fail(f"{manifest} declares driver.binding: {declared}, but the statement log shows some lookups "
                         "bound ($1) and some with the values spliced into the SQL text: bind every value")
        elif observed != f"{declared}-side":
            verdict.fail(f"{manifest} declares driver.binding: {declared}, but the statement log shows {observed} "
                         "binding" + (": the values were spliced into the SQL text" if observed == "client-side"
                                      else ": the values travelled apart from the SQL text ($1)"))

    def binding_mode(self) -> str:
        """Server-side binding shows in the log as `execute <name>: ... $1` with the values as
        `parameters:` detail; client-side interpolation shows the SQL text with the literals in it."""
        texts = [statement_text(r.message) or "" for r in self.ctx.my_log()]
        lookups = [t for t in texts if "from users" in t.lower() and "where" in t.lower()]
        bound = [t for t in lookups if "$1" in t]
        if not lookups:
            return "unknown"
        if len(bound) == len(lookups):
            return "server-side"
        return "client-side" if not bound else "mixed"


TX_BEGIN = ("BEGIN", "START TRANSACTION")
TX_END = ("COMMIT", "ROLLBACK", "END", "ABORT")




def transaction_problems(log: list[LogRecord]) -> list[str]:
    """Each backend's statements replayed in log order: every write to users must run inside a
    BEGIN .. COMMIT/ROLLBACK of the same backend, and no COMMIT/ROLLBACK may end a transaction
    its backend never began (what a transaction spread over pooled connections looks like)."""
    open_on: dict[int, bool] = {}
    problems: list[str] = []
    for record in log:
        text = statement_text(record.message)
        if text is None:
            continue
        head = text.rstrip(";").upper()
        if head.startswith(TX_BEGIN):
            open_on[record.pid] = True
        elif head.split(" ")[0] in TX_END:
            if not open_on.get(record.pid):
                problems.append(f"backend {record.pid} got {head[:20]!r} with no transaction open on it: the "
                                "transaction's statements went to different connections (use one checked-out "
                                "client for BEGIN .. COMMIT/ROLLBACK)")
            open_on[record.pid] = False
        elif head.startswith("INSERT INTO USERS") and not open_on.get(record.pid):
            problems.append(f"backend {record.pid} ran {text[:60]!r} outside any transaction of its own")
    warned = [r for r in log if r.state_code == "25P01"]
    if warned:
        problems.append(f"the server warned {len(warned)} time(s) 25P01 '{warned[0].message}': a COMMIT/ROLLBACK "
                        "reached a connection that had no transaction")
    return problems


@scenario("transaction")
class Transaction(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        verdict.compare("data.visible", self.expect["visible"], data.get("visible"))
        verdict.compare("data.failed_sqlstate", self.expect["failed_sqlstate"], data.get("failed_sqlstate"))
        on_server = [r[0] for r in self.ctx.query_case_db("SELECT id FROM users WHERE id >= 1000 ORDER BY id")]
        verdict.compare("rows with id >= 1000 on the server", self.expect["visible"], on_server)
        mine = self.ctx.my_log()
        for problem in transaction_problems(mine):
            verdict.fail(problem)
        writers = sorted({r.pid for r in mine if (statement_text(r.message) or "").upper().startswith("INSERT INTO USERS")})
        verdict.observed["backends_writing"] = len(writers)


@scenario("error_sqlstate")
class ErrorSqlstate(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        expected = {k: self.expect[k] for k in ("unique_violation", "syntax_error", "after")}
        actual = {k: data.get(k) for k in expected}
        verdict.compare("data", expected, actual)
        # The server's own record must agree with what the example reports.
        logged = {r.state_code for r in self.ctx.my_log() if r.severity == "ERROR"}
        for key in ("unique_violation", "syntax_error"):
            verdict.require(self.expect[key] in logged,
                            f"the server logged no ERROR with SQLSTATE {self.expect[key]} for this case")
        verdict.observed["server_errors"] = sorted(logged)


@scenario("types")
class Types(ScenarioCheck):
    SERVER_SQL = (
        "SELECT i8::text, num::text, txt, flag, to_json(ts)#>>'{}', d::text, encode(bin, 'hex'), "
        "doc, arr, nothing FROM type_probe ORDER BY id DESC LIMIT 1"
    )
    KEYS = ("int8", "numeric", "text", "bool", "timestamptz", "date", "bytea", "jsonb", "int_array", "null")

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        expected = canonical_values(self.ctx.params["values"])
        values = data.get("values")
        if not verdict.require(isinstance(values, dict), f"data.values must be an object, got {values!r}"):
            return
        verdict.compare("data.values (canonical)", expected, canonical_values(values))
        rows = self.ctx.query_case_db(self.SERVER_SQL)
        if verdict.require(len(rows) == 1, "no row in type_probe on the server: the values never reached it"):
            stored = canonical_values(dict(zip(self.KEYS, rows[0])))
            verdict.compare("type_probe row stored on the server (canonical)", expected, stored)
