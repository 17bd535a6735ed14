"""The topologies a case can run through: straight to PostgreSQL, or through a real PgBouncer
in session or in transaction pooling mode. A case is (example, scenario, topology); its key in a
run is the scenario's name, followed by `@<topology>` unless the topology is direct."""

from __future__ import annotations

from collections.abc import Iterable

from harness.errors import InputError

DIRECT = "direct"
# topology -> PgBouncer's pool_mode
POOLER_MODES: dict[str, str] = {
    "pgbouncer-session": "session",
    "pgbouncer-transaction": "transaction",
}
TOPOLOGIES: tuple[str, ...] = (DIRECT, *POOLER_MODES)


def base_topology(topology: str) -> str:
    """The topology without a driver fix's name ("pgbouncer-transaction+prepareThreshold=0")."""
    return topology.partition("+")[0]


def case_key(scenario: str, topology: str) -> str:
    return scenario if topology == DIRECT else f"{scenario}@{topology}"


def parse_topologies(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """--via as given (repeated, or comma-separated): each known topology once, in the order
    given; none given means direct."""
    if values is None:
        return (DIRECT,)
    given = [values] if isinstance(values, str) else list(values)
    chosen: list[str] = []
    for value in given:
        for name in (part.strip() for part in str(value).split(",")):
            if not name:
                continue
            if name not in TOPOLOGIES:
                raise InputError("command line", "--via", f"unknown topology {name!r}",
                                 f"use one or more of: {', '.join(TOPOLOGIES)} (e.g. --via direct,pgbouncer-transaction)")
            if name not in chosen:
                chosen.append(name)
    return tuple(chosen) or (DIRECT,)
