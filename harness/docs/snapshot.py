"""The results the committed page quotes, kept beside it (docs/backend-connections.results.json).

`python -m harness docs` folds the latest results.json into it; `docs --check` reads only this
file, the template and the regions, so the check is the same on every machine and never
depends on the timing figures of the run that happens to be there. Per example it keeps, for
each backend, every scenario's latest outcome together with the sha256 of each region the run
proved: results made from other code are dropped when new ones arrive, and a region edited
after its results were made no longer matches (the check says so)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.reporting.view import probe_rows
from harness.reporting.view import run_time
from harness.reporting.view import NOT_APPLICABLE, SKIPPED

SCHEMA = 1


@dataclass(frozen=True)
class BackendRun:
    """One backend's latest outcomes of one example."""

    backend: str
    postgres: str
    first: str   # dates (YYYY-MM-DD) of the oldest and newest result folded in
    last: str
    scenarios: dict[str, str]   # name -> outcome

    @property
    def counted(self) -> dict[str, str]:
        """The cases that ran (n/a and skipped ones are not part of "N/M passing")."""
        return {n: o for n, o in self.scenarios.items() if o not in (NOT_APPLICABLE, SKIPPED)}

    @property
    def passing(self) -> int:
        return sum(o in ("passed", "xfailed") for o in self.counted.values())

    @property
    def total(self) -> int:
        return len(self.counted)


def load(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"schema": SCHEMA, "examples": {}, "lifecycle": {}}
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("examples", {})
    data.setdefault("lifecycle", {})
    return data


def save(snapshot: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def fold(snapshot: dict[str, Any], run: dict[str, Any]) -> list[str]:
    """Fold one results.json into the snapshot; return what changed, for the terminal."""
    date = run_time(run).date().isoformat()
    backend = run.get("backend", "native")
    notes = []
    for example in run.get("examples", []):
        # Only the code counts: a region that moved down its file is still the code that ran.
        samples = {s["tag"]: s["sha256"] for s in example.get("samples", [])}
        if not samples:
            continue   # an example without regions (or a results.json from before regions)
        if not any(s.get("outcome") not in (NOT_APPLICABLE, SKIPPED) for s in example.get("scenarios", [])):
            notes.append(f"{example['id']}: no case ran ({example.get('reason') or 'skipped'}); not folded in")
            continue
        entry = snapshot["examples"].get(example["id"])
        if not entry or entry.get("samples") != samples or entry.get("driver") != example.get("driver"):
            if entry:
                notes.append(f"{example['id']}: its regions or driver changed; older results dropped")
            entry = {"driver": example.get("driver", ""), "samples": samples, "runs": {}}
            snapshot["examples"][example["id"]] = entry
        old = entry["runs"].get(backend) or {}
        if old.get("postgres") and old["postgres"] != run.get("postgres"):
            old = {}   # another server version: its outcomes are not these
        outcomes = dict(old.get("scenarios", {}))
        outcomes.update({s["name"]: s["outcome"] for s in example.get("scenarios", [])})
        entry["runs"][backend] = {"postgres": run.get("postgres", ""), "first": old.get("first", date),
                                  "last": date, "scenarios": outcomes}
        notes.append(f"{example['id']} ({backend}): {len(example.get('scenarios', []))} case(s) of {date}")
    _fold_lifecycle(snapshot, run, date)
    return notes


def _fold_lifecycle(snapshot: dict[str, Any], run: dict[str, Any], date: str) -> None:
    """The connect-time figures the page sets beside its claim (per backend, per driver)."""
    lifecycle = run.get("lifecycle") or {}
    probe, drivers = lifecycle.get("probe"), lifecycle.get("drivers") or {}
    if not probe and not drivers:
        return
    backend = run.get("backend", "native")
    kept = snapshot["lifecycle"].setdefault(backend, {"drivers": {}})
    if probe:
        kept["probe"] = [{"label": row.label, "figures": row.figures,
                          "samples": (probe.get("remote") or {}).get("samples") if row.remote else probe.get("samples")}
                         for row in probe_rows(probe)]
        kept["claim"] = probe.get("page_claim_ms", {})
        kept["date"], kept["postgres"] = date, run.get("postgres", "")
    for example_id, modes in drivers.items():
        kept["drivers"][example_id] = {"date": date, **modes}


def runs_of(snapshot: dict[str, Any], example_id: str) -> list[BackendRun]:
    entry = snapshot["examples"].get(example_id) or {}
    return [BackendRun(backend, r.get("postgres", ""), r.get("first", ""), r.get("last", ""), r.get("scenarios", {}))
            for backend, r in sorted(entry.get("runs", {}).items())]


def example_of_tag(snapshot: dict[str, Any], tag: str) -> str | None:
    for example_id, entry in snapshot["examples"].items():
        if tag in entry.get("samples", {}):
            return example_id
    return None
