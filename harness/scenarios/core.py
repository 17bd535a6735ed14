"""The core scenarios: what every sample on the page must do right."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from harness.canonical import canonical_values, parse_timestamp
from harness.scenarios.base import ScenarioCheck, Verdict, scenario


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
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        verdict.compare("data.rows", fixture_rows(self, "rows"), data.get("rows"))


@scenario("param_query")
class ParamQuery(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        verdict.compare("data.by_id", self.expect["by_id"], data.get("by_id"))
        verdict.compare("data.by_name", self.expect["by_name"], data.get("by_name"))
        users_table_intact(self, verdict)
        verdict.observed["binding"] = self.binding_mode()

    def binding_mode(self) -> str:
        """Server-side binding shows in the log as `execute <name>: ... $1` with the values as
        `parameters:` detail; client-side interpolation shows as a plain `statement:` with literals."""
        mine = self.ctx.my_log()
        lookups = [r for r in mine if "from users" in r.message.lower() and "where" in r.message.lower()]
        if any(r.message.startswith("execute") and "$1" in r.message for r in lookups):
            return "server-side"
        if any(r.message.startswith("statement:") and "$1" not in r.message for r in lookups):
            return "client-side"
        return "unknown"


@scenario("transaction")
class Transaction(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        verdict.compare("data.visible", self.expect["visible"], data.get("visible"))
        verdict.compare("data.failed_sqlstate", self.expect["failed_sqlstate"], data.get("failed_sqlstate"))
        on_server = [r[0] for r in self.ctx.query_case_db("SELECT id FROM users WHERE id >= 1000 ORDER BY id")]
        verdict.compare("rows with id >= 1000 on the server", self.expect["visible"], on_server)


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
