"""The common spec: the fixture every example sees and the scenarios every example runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError

SCENARIO_KEYS = {"summary", "group", "order", "timeout_seconds", "max_statements", "cpu_cores", "connection", "params",
                 "expect", "page_claim", "runs_as"}
# A story's claim as the page states it (`page_claim:`), shown beside what was measured, never asserted.
PAGE_CLAIM_KEYS = {"figure": "the page's figures in short, e.g. \"2 s → 50 ms\"",
                   "quote": "the page's sentence that states them, word for word"}
# Where a scenario without `order:` goes: after the others, by name.
LAST = 10_000
# How the harness connects the example (PGSSLMODE, PGSSLROOTCERT, PGPASSWORD), per scenario.
CONNECTION_CHOICES: dict[str, tuple[str, ...]] = {
    "sslmode": ("disable", "require", "verify-ca", "verify-full"),
    "sslrootcert": ("none", "run_ca", "wrong_ca"),
    "password": ("role", "wrong"),
    # unnamed_address: the server's second loopback address, which its certificate does not name.
    "host": ("server", "unnamed_address"),
}


@dataclass(frozen=True)
class Connection:
    sslmode: str = "disable"
    sslrootcert: str = "none"   # run_ca: the run's CA; wrong_ca: a CA that did not sign the server
    password: str = "role"      # wrong: a password the role does not have
    host: str = "server"        # unnamed_address: an address of the server its certificate does not name

    @property
    def tls(self) -> bool:
        return self.sslmode != "disable"


@dataclass(frozen=True)
class PageClaim:
    figure: str   # short, for a terminal line or a table cell
    quote: str    # the page's own words

    def to_json(self) -> dict[str, str]:
        return {"figure": self.figure, "quote": self.quote}


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    group: str
    timeout_seconds: float
    order: float
    params: dict[str, Any]
    expect: dict[str, Any]
    connection: Connection = Connection()
    # The most statements the scenario's work may take (the driver's housekeeping not counted).
    max_statements: int = 0
    # The cores a case keeps busy whatever its own process measures (the server's, for a story
    # whose CPU half saturates them); a parallel run weighs it at least this (harness.gate).
    cpu_cores: float = 0.0
    page_claim: PageClaim | None = None
    # A sibling of another scenario (`runs_as:` its name): the example runs that scenario's code
    # (HARNESS_SCENARIO and the result line say it), wherever that one applies, and the check
    # changes only where it connects (connect_latency_remote: over the simulated link).
    runs_as: str = ""


@dataclass(frozen=True)
class RoleLimits:
    """Every example role's fair share of the server (spec/fixture.yaml `limits:`): a scenario
    that needs more connections sets its own limit for its case (ctx.controls.set_connection_limit)."""

    connections_per_role: int = 40
    statement_timeout: str = "60s"
    idle_in_transaction_session_timeout: str = "60s"

    def settings(self) -> dict[str, str]:
        """The role's settings (ALTER ROLE ... SET), read at each login."""
        return {"statement_timeout": self.statement_timeout,
                "idle_in_transaction_session_timeout": self.idle_in_transaction_session_timeout}


LIMIT_KEYS = {"connections_per_role": int, "statement_timeout": str, "idle_in_transaction_session_timeout": str}
DURATION = re.compile(r"^[1-9][0-9]*(ms|s|min)$")


@dataclass(frozen=True)
class Fixture:
    schema_sql: str
    users: list[dict[str, Any]]
    holdings: list[dict[str, Any]] = field(default_factory=list)
    limits: RoleLimits = RoleLimits()

    def user_rows(self, where: str = "all") -> list[dict[str, Any]]:
        rows = sorted(self.users, key=lambda u: u["id"])
        if where == "active":
            rows = [u for u in rows if u["active"]]
        return [{"id": u["id"], "name": u["name"]} for u in rows]

    def users_with_holdings(self, where: str = "all") -> list[dict[str, Any]]:
        """Each user (by id) with their holdings (by holding id): symbol and shares."""
        held = sorted(self.holdings, key=lambda h: h["id"])
        return [{**user, "holdings": [{"symbol": h["symbol"], "shares": h["shares"]}
                                      for h in held if h["user_id"] == user["id"]]}
                for user in self.user_rows(where)]


@dataclass(frozen=True)
class Spec:
    fixture: Fixture
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.scenarios)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(path, "", f"is not valid YAML ({exc})", "fix the YAML syntax") from exc


def load_fixture(path: Path) -> Fixture:
    data = _read_yaml(path)
    if not isinstance(data, dict) or "schema" not in data or "users" not in data:
        raise InputError(path, "schema/users", "needs both keys", "add `schema:` (SQL) and `users:` (rows)")
    return Fixture(schema_sql=data["schema"], users=list(data["users"]), holdings=list(data.get("holdings") or []),
                   limits=load_limits(path, data.get("limits")))


def section_items(path: Path, section: str, data: Any, allowed: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, value, what `allowed` says of the key) of a mapping section whose keys must be in `allowed`."""
    if not isinstance(data, dict):
        raise InputError(path, section, "must be a mapping", f"use the keys {sorted(allowed)}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InputError(path, f"{section}.{unknown[0]}", f"is not a {section} key", f"use only {sorted(allowed)}")
    return [(key, value, allowed[key]) for key, value in data.items()]


def load_limits(path: Path, data: Any) -> RoleLimits:
    if data is None:
        return RoleLimits()
    for key, value, kind in section_items(path, "limits", data, LIMIT_KEYS):
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InputError(path, f"limits.{key}", f"is {value!r}", "give a whole number of connections >= 1")
        if kind is str and not (isinstance(value, str) and DURATION.match(value)):
            raise InputError(path, f"limits.{key}", f"is {value!r}", "give a duration such as 500ms, 60s or 2min")
    return RoleLimits(**data)


def load_scenario(path: Path) -> Scenario:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(path, "", "must be a mapping", f"use the keys {sorted(SCENARIO_KEYS)}")
    unknown = set(data) - SCENARIO_KEYS
    if unknown:
        raise InputError(path, sorted(unknown)[0], "is not a scenario key", f"use only {sorted(SCENARIO_KEYS)}")
    for key in ("summary", "group"):
        if not isinstance(data.get(key), str):
            raise InputError(path, key, "is missing", f"add `{key}: <text>`")
    order = data.get("order", LAST)
    if isinstance(order, bool) or not isinstance(order, (int, float)):
        raise InputError(path, "order", f"is {order!r}", "give a number: scenarios are listed by it, lowest first")
    max_statements = data.get("max_statements")
    if isinstance(max_statements, bool) or not isinstance(max_statements, int) or max_statements < 0:
        raise InputError(path, "max_statements", f"is {max_statements!r}",
                         "give the most statements the scenario's work may take (an integer >= 0; "
                         "the driver's SET/SHOW/BEGIN/COMMIT are not counted)")
    cpu_cores = data.get("cpu_cores", 0)
    if isinstance(cpu_cores, bool) or not isinstance(cpu_cores, (int, float)) or cpu_cores < 0:
        raise InputError(path, "cpu_cores", f"is {cpu_cores!r}",
                         "give the cores the case keeps busy beyond its own process (a number >= 0, e.g. 1)")
    runs_as = data.get("runs_as", "")
    if not isinstance(runs_as, str):
        raise InputError(path, "runs_as", f"is {runs_as!r}", "give the name of the scenario whose code the example runs")
    return Scenario(
        runs_as=runs_as,
        max_statements=max_statements,
        cpu_cores=float(cpu_cores),
        connection=load_connection(path, data.get("connection")),
        page_claim=load_page_claim(path, data.get("page_claim")),
        name=path.stem,
        summary=data["summary"],
        group=data["group"],
        timeout_seconds=float(data.get("timeout_seconds", 30)),
        order=float(order),
        params=dict(data.get("params") or {}),
        expect=dict(data.get("expect") or {}),
    )


def load_connection(path: Path, data: Any) -> Connection:
    if data is None:
        return Connection()
    for key, value, choices in section_items(path, "connection", data, CONNECTION_CHOICES):
        if value not in choices:
            raise InputError(path, f"connection.{key}", f"is {value!r}", f"use one of {list(choices)}")
    return Connection(**data)


def load_page_claim(path: Path, data: Any) -> PageClaim | None:
    if data is None:
        return None
    items = section_items(path, "page_claim", data, PAGE_CLAIM_KEYS)
    for key, what in PAGE_CLAIM_KEYS.items():
        if key not in data:
            raise InputError(path, f"page_claim.{key}", "is missing", f"add `{key}:` ({what})")
    for key, value, what in items:
        if not isinstance(value, str) or not value.strip():
            raise InputError(path, f"page_claim.{key}", f"is {value!r}", f"give {what}")
    return PageClaim(" ".join(data["figure"].split()), " ".join(data["quote"].split()))


def load_spec(spec_dir: Path) -> Spec:
    fixture = load_fixture(spec_dir / "fixture.yaml")
    paths = sorted((spec_dir / "scenarios").glob("*.yaml"))
    # The page's order, as each scenario file states it with `order:`.
    ordered = sorted((load_scenario(p) for p in paths), key=lambda s: (s.order, s.name))
    return Spec(fixture=fixture, scenarios={s.name: s for s in ordered})
