"""The topologies a case can run through: straight to PostgreSQL, or through a real PgBouncer
(Debian 12's 1.18, or 1.24.1 built by ci/pgbouncer-1.24.sh) in session or in transaction pooling
mode, optionally with a driver fix (spec/pgbouncer.yaml `fixes:`). A topology is a `Topology`
value, parsed once from its label ("pgbouncer-1.24-transaction+prepareThreshold=0"); a case is
(example, scenario, topology), its key in a run the scenario's name followed by `@<label>`
unless the topology is direct."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from harness.errors import InputError

DIRECT = "direct"
PGBOUNCER = "pgbouncer"
POOL_MODES = ("session", "transaction")
# PgBouncer's versions: the unnamed one (the label "pgbouncer-<mode>") is Debian 12's package.
DEFAULT_VERSION = "1.18"
VERSIONS = (DEFAULT_VERSION, "1.24")


@dataclass(frozen=True)
class Topology:
    """What a case runs through. Direct: no pooler (pooler == ""); otherwise PgBouncer of
    `version` in `pool_mode`, and `fix` the driver fix's name ("" for the sample as written)."""
    pooler: str = ""
    version: str = ""
    pool_mode: str = ""
    fix: str = ""

    @property
    def pooled(self) -> bool:
        return bool(self.pooler)

    @property
    def label(self) -> str:
        if not self.pooled:
            return DIRECT
        version = "" if self.version == DEFAULT_VERSION else f"{self.version}-"
        return f"{self.pooler}-{version}{self.pool_mode}" + (f"+{self.fix}" if self.fix else "")

    @property
    def base(self) -> Topology:
        """The same topology without its driver fix."""
        return Topology(self.pooler, self.version, self.pool_mode)

    @property
    def default_version(self) -> Topology:
        """The same route and mode through the default version (whose known failures it inherits)."""
        return Topology(self.pooler, DEFAULT_VERSION, self.pool_mode, self.fix) if self.pooled else self

    def with_fix(self, name: str) -> Topology:
        return Topology(self.pooler, self.version, self.pool_mode, name)

    def __str__(self) -> str:
        return self.label


DIRECT_TOPOLOGY = Topology()
BASE_TOPOLOGIES: tuple[Topology, ...] = (DIRECT_TOPOLOGY, *(
    Topology(PGBOUNCER, version, mode) for version in VERSIONS for mode in POOL_MODES))
TOPOLOGIES: tuple[str, ...] = tuple(t.label for t in BASE_TOPOLOGIES)
POOLED_TOPOLOGIES: tuple[str, ...] = TOPOLOGIES[1:]


def unknown_topology(name: str) -> InputError:
    return InputError("command line", "--via", f"unknown topology {name!r}",
                      f"use one or more of: {', '.join(TOPOLOGIES)}, each optionally with +<driver fix> of "
                      "spec/pgbouncer.yaml (e.g. --via direct,pgbouncer-1.24-transaction,"
                      "pgbouncer-transaction+prepareThreshold=0)")


@lru_cache(maxsize=64)
def _parse(label: str) -> Topology:
    base_label, plus, fix = label.partition("+")
    base = next((t for t in BASE_TOPOLOGIES if t.label == base_label), None)
    if base is None or (plus and (not fix or not base.pooled)):
        raise unknown_topology(label)
    return base.with_fix(fix) if fix else base


def topology(value: Topology | str) -> Topology:
    """The topology a label names (a Topology is returned as it is); InputError naming the
    valid ones for any other."""
    return value if isinstance(value, Topology) else _parse(str(value).strip())


def case_key(scenario: str, where: Topology | str) -> str:
    label = str(where)
    return scenario if label == DIRECT else f"{scenario}@{label}"


def parse_topologies(values: Iterable[str | Topology] | str | Topology | None) -> tuple[Topology, ...]:
    """--via as given (repeated, or comma-separated): each topology once, in the order given;
    none given means direct."""
    if values is None:
        return (DIRECT_TOPOLOGY,)
    given = [values] if isinstance(values, (str, Topology)) else list(values)
    chosen: list[Topology] = []
    for value in given:
        parts = [value] if isinstance(value, Topology) else [p.strip() for p in str(value).split(",")]
        for part in parts:
            if not part:
                continue
            chosen_one = topology(part)
            if chosen_one not in chosen:
                chosen.append(chosen_one)
    return tuple(chosen) or (DIRECT_TOPOLOGY,)
