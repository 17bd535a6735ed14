"""The known incompatibilities of PgBouncer (spec/pgbouncer.yaml, and an example's own in its
manifest's `pooler.known_failures`): expected failures of pooled cases, each with its reason and the error the failure must show (harness.expected_error). An entry names the 1.18
topologies (pgbouncer-session, pgbouncer-transaction) and holds for another version's topology
of the same pool mode too, except an entry marked `max_prepared_statements: true` when that
version runs with max_prepared_statements (spec `versions:`): that version passes it, so it is
not listed for it (a pass there is a pass; a failure a failure). An entry may also name another
version's topology itself (pgbouncer-1.24-transaction) for what fails there only, or a driver
fix's row (pgbouncer-transaction+prepare=false) for what that fix gives up: such an entry holds
for that row alone, never for the sample as written."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from harness import safe_yaml
from harness.errors import InputError
from harness.expected_error import ExpectedError, parse_expected
from harness.manifest import MANIFEST_NAME, KnownFailure
from harness.pooler import DEFAULT_VERSION, POOLED_TOPOLOGIES, Topology, topology as as_topology
from harness.pooler.versions import tracks_prepared_statements

FILE = "pgbouncer.yaml"
# PgBouncer 1.18 (Debian 12's) has no max_prepared_statements; a row it would change says so.
MAX_PREPARED_NOTE = ("PgBouncer 1.18 has no max_prepared_statements; "
                     "1.24 with max_prepared_statements passes this row (pgbouncer-1.24-*)")
KEYS = {"scenario", "topologies", "error", "reason", "link", "examples", "max_prepared_statements", "intermittent"}


@dataclass(frozen=True)
class PoolerIncompatibility:
    scenario: str
    topologies: tuple[str, ...]
    reason: str
    expected: ExpectedError
    where: str = ""   # the file and entry that declare it
    link: str = ""
    examples: tuple[str, ...] = ("*",)
    max_prepared_statements: bool = False   # PgBouncer 1.21+ with max_prepared_statements would change it
    intermittent: bool = False   # fails in some runs only: a pass is allowed, a failure must show `error`

    def covers(self, example_id: str, scenario: str) -> bool:
        return scenario == self.scenario and any(fnmatch.fnmatch(example_id, pattern) for pattern in self.examples)

    def as_known_failure(self) -> KnownFailure:
        reason = self.reason + (f" ({MAX_PREPARED_NOTE})" if self.max_prepared_statements else "")
        return KnownFailure(self.scenario, reason, self.expected, self.link, intermittent=self.intermittent,
                            source=self.where)


def spec_entries(spec_dir: Path, section: str, keys: set[str], required: tuple[str, ...],
                 examples_dir: Path | None = None, fixed_rows: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """The entries of one section of spec/pgbouncer.yaml, then those of every manifest's
    `pooler:` section under `examples_dir` (an example's own rows: `examples` is that example),
    checked for unknown and missing keys and for pooled topologies (fixed_rows: also
    "<pooled topology>+<fix>"): (where, entry) each."""
    path = spec_dir / FILE
    found = []
    if path.exists():
        raw = yaml.safe_load(path.read_text()) or {}
        found += [_checked(path, f"{section}[{i}]", entry, keys, required, fixed_rows)
                  for i, entry in enumerate(raw.get(section) or [])]
    for manifest in sorted(examples_dir.glob(f"*/*/{MANIFEST_NAME}")) if examples_dir else ():
        try:
            raw_manifest = safe_yaml.load(manifest)
        except InputError:
            continue   # discovery names a manifest it cannot read; its rows are not run
        pooler = raw_manifest.get("pooler") if isinstance(raw_manifest, dict) else None
        entries = pooler.get(section) if isinstance(pooler, dict) else None
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and "examples" in entry:
                raise InputError(manifest, f"pooler.{section}[{i}].examples", "is not a key of a manifest's entry",
                                 "remove it: a manifest's entry is for its own example")
            own = {**entry, "examples": [str(raw_manifest.get("id"))]} if isinstance(entry, dict) else entry
            found.append(_checked(manifest, f"pooler.{section}[{i}]", own, keys, required, fixed_rows))
    return found


def _checked(path: Path, where: str, entry: Any, keys: set[str], required: tuple[str, ...],
             fixed_rows: bool = False) -> tuple[str, dict[str, Any]]:
    if not isinstance(entry, dict):
        raise InputError(path, where, "is not a mapping", f"give {', '.join(required)}")
    unknown = set(entry) - keys
    if unknown:
        raise InputError(path, f"{where}.{sorted(unknown)[0]}", "is not a known key", f"use one of: {', '.join(sorted(keys))}")
    missing = [key for key in required if not entry.get(key)]
    if missing:
        raise InputError(path, f"{where}.{missing[0]}", "is missing", f"every entry gives {', '.join(required)}")
    bad = [t for t in entry["topologies"] if (str(t).partition("+")[0] if fixed_rows else t) not in POOLED_TOPOLOGIES]
    if bad:
        fixed = ", each optionally with +<driver fix>" if fixed_rows else ""
        raise InputError(path, f"{where}.topologies", f"{bad[0]!r} is not a pooled topology",
                         f"use {', '.join(POOLED_TOPOLOGIES)}{fixed}")
    return f"{path}: {where}", entry


@lru_cache(maxsize=4)
def load_incompatibilities(spec_dir: Path, scenario_names: tuple[str, ...],
                           examples_dir: Path | None = None) -> tuple[PoolerIncompatibility, ...]:
    found = []
    for where, entry in spec_entries(spec_dir, "known_failures", KEYS, ("scenario", "topologies", "error", "reason"),
                                     examples_dir, fixed_rows=True):
        _check_fixed_rows(spec_dir, examples_dir, where, entry["topologies"])
        names = entry["scenario"] if isinstance(entry["scenario"], list) else [entry["scenario"]]
        unknown = [name for name in names if name not in scenario_names]
        if unknown:
            raise InputError(where, "scenario", f"{unknown[0]!r} is not a scenario of spec/scenarios/",
                             "name a scenario that exists (or a list of them)")
        file, _, key = where.rpartition(": ")
        expected = parse_expected(entry["error"], file, f"{key}.error")
        found += [PoolerIncompatibility(
            scenario=name, topologies=tuple(entry["topologies"]), reason=" ".join(str(entry["reason"]).split()),
            expected=expected, where=where, link=str(entry.get("link", "")), examples=tuple(entry.get("examples") or ("*",)),
            max_prepared_statements=bool(entry.get("max_prepared_statements", False)),
            intermittent=bool(entry.get("intermittent", False))) for name in names]
    return tuple(found)


def _check_fixed_rows(spec_dir: Path, examples_dir: Path | None, where: str, topologies: list[str]) -> None:
    """A topology "<pooled>+<fix>" names a fix declared for that pooled topology."""
    from harness.pooler.fixes import load_fixes   # fixes reads its entries through this module
    for label in (str(t) for t in topologies if "+" in str(t)):
        row = as_topology(label)
        base, name = row.base.label, row.fix
        declared = sorted({fix.name for fix in load_fixes(spec_dir, examples_dir) if base in fix.topologies})
        if name not in declared:
            file, _, key = where.rpartition(": ")
            raise InputError(file, f"{key}.topologies", f"{label!r} names fix {name!r}, which no fix for {base} is",
                             f"name one of: {', '.join(declared)}" if declared else
                             f"declare the fix first (pooler.fixes, or spec/pgbouncer.yaml fixes:) with {base} in its topologies")


def listed_for(entry: PoolerIncompatibility, spec_dir: Path, where: Topology) -> bool:
    """Is the entry an expected failure of that topology (its version and pool mode; a fix's row
    also of the entries that name that row)?"""
    named = set(entry.topologies)   # a row without a fix: its label and its base's are one
    if named & {where.label, where.base.label}:
        return True
    inherited = where.version != DEFAULT_VERSION and bool(named & {where.default_version.label, where.base.default_version.label})
    return inherited and not (entry.max_prepared_statements and tracks_prepared_statements(spec_dir, where.version))


def known_behind_pooler(spec_dir: Path, scenario_names: tuple[str, ...], example_id: str, scenario: str,
                        where: Topology | str, examples_dir: Path | None = None) -> KnownFailure | None:
    """examples_dir: also the manifests' own `pooler.known_failures` (None: spec/pgbouncer.yaml only)."""
    where = as_topology(where)
    if not where.pooled:
        return None
    for entry in load_incompatibilities(spec_dir, scenario_names, examples_dir):
        if entry.covers(example_id, scenario) and listed_for(entry, spec_dir, where):
            return entry.as_known_failure()
    return None
