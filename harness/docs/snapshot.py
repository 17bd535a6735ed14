"""The results the committed page quotes, kept beside it (docs/backend-connections.results.json).

`python -m harness docs` folds results.json files into it; `docs --check` reads only this file,
the template and the regions, so the check is the same on every machine and never depends on
the timing figures of the run that happens to be there. It keeps:

  runs       each run whose results the page still quotes: when it finished, its commit, backend,
             server, topologies and its counts of cases by outcome (the page states them)
  examples   per example and backend, every case's latest outcome (`<scenario>` straight to the
             server, `<scenario>@<topology>` through a pooler) with the sha256 of each region the
             run proved: results made from other code are dropped when new ones arrive, and a
             region edited after its results were made no longer matches (the check says so)
  lifecycle  the connect-time figures per backend
  stories    per backend, the measured stories' cases (pool exhaustion, cutover, N+1, pool sizing)
             with their figures, in the shape of results.json so the reports' views read them
  site       the GitHub Pages site the page links to (harness.docs.site), as generated"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.pooler import DIRECT, case_key
from harness.reporting.view import NOT_APPLICABLE, SKIPPED, probe_rows, run_time

SCHEMA = 2
# observed.<key> of a story's case; the page's tables read them back through the reports' views
STORY_FIGURES = ("pool_exhaustion", "cutover", "story", "pool_sizing")


@dataclass(frozen=True)
class BackendRun:
    """One backend's latest outcomes of one example."""

    backend: str
    postgres: str
    first: str   # dates (YYYY-MM-DD) of the oldest and newest result folded in
    last: str
    scenarios: dict[str, str]   # case key (scenario, or scenario@topology) -> outcome

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

    def by_topology(self) -> dict[str, dict[str, str]]:
        """The counted cases per topology, direct first."""
        split: dict[str, dict[str, str]] = {}
        for key, outcome in self.counted.items():
            name, _, topology = key.partition("@")
            split.setdefault(topology or DIRECT, {})[name] = outcome
        return dict(sorted(split.items(), key=lambda item: (item[0] != DIRECT, item[0])))


def empty() -> dict[str, Any]:
    return {"schema": SCHEMA, "site": "", "repository": "", "runs": {}, "examples": {}, "lifecycle": {},
            "stories": {}}


def load(path: Path) -> dict[str, Any]:
    snapshot = empty()
    if path.is_file():
        snapshot.update(json.loads(path.read_text(encoding="utf-8")))
    return snapshot


def save(snapshot: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snapshot, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def run_key(run: dict[str, Any]) -> str:
    return f"{run.get('backend') or 'native'} {run_time(run).isoformat(timespec='seconds')}"


def run_summary(run: dict[str, Any]) -> dict[str, Any]:
    """What the page says of a run: when, which commit, where, and its cases by outcome."""
    counts: dict[str, int] = {}
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            counts[case.get("outcome", "")] = counts.get(case.get("outcome", ""), 0) + 1
    return {"backend": run.get("backend") or "native", "postgres": run.get("postgres", ""),
            "finished": run_time(run).isoformat(timespec="seconds"), "commit": run.get("commit", ""),
            "dirty": bool(run.get("dirty")), "topologies": list(run.get("topologies") or [DIRECT]),
            "pooler": run.get("pooler", ""), "counts": dict(sorted(counts.items())),
            "examples": sorted(e["id"] for e in run.get("examples", []))}


def fold(snapshot: dict[str, Any], run: dict[str, Any], parts: list[dict[str, Any]] | None = None) -> list[str]:
    """Fold one results.json into the snapshot, or one backend's several merged (`parts`: the
    files it was merged from, each stated as a run of its own); return what changed."""
    if snapshot.get("schema") != SCHEMA:
        snapshot.clear()
        snapshot.update(empty())   # the older layout kept no runs: its lines could not say where they came from
    date = run_time(run).date().isoformat()
    backend = run.get("backend") or "native"
    parts = parts or [run]
    keys = sorted(run_key(part) for part in parts)
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
        outcomes.update({case_key(s["name"], s.get("topology") or DIRECT): s["outcome"]
                         for s in example.get("scenarios", [])})
        entry["runs"][backend] = {"postgres": run.get("postgres", ""), "first": old.get("first", date),
                                  "last": date, "scenarios": dict(sorted(outcomes.items())),
                                  "from": sorted(set(old.get("from", [])) | set(keys))}
        notes.append(f"{example['id']} ({backend}): {len(example.get('scenarios', []))} case(s) of {date}")
    _fold_lifecycle(snapshot, run, date, keys)
    _fold_stories(snapshot, run, keys)
    snapshot["runs"].update({run_key(part): run_summary(part) for part in parts})
    _drop_unquoted_runs(snapshot)
    return notes


def _fold_lifecycle(snapshot: dict[str, Any], run: dict[str, Any], date: str, keys: list[str]) -> None:
    """The connect-time figures the page sets beside its claim (per backend, per driver)."""
    lifecycle = run.get("lifecycle") or {}
    probe, drivers = lifecycle.get("probe"), lifecycle.get("drivers") or {}
    if not probe and not drivers:
        return
    backend = run.get("backend") or "native"
    kept = snapshot["lifecycle"].setdefault(backend, {"drivers": {}})
    if probe:
        kept["probe"] = [{"label": row.label, "figures": {"plain": row.plain, "tls": row.tls},
                          "samples": (probe.get("remote") or {}).get("samples") if row.remote else probe.get("samples")}
                         for row in probe_rows(probe)]
        kept["claim"] = probe.get("page_claim_ms", {})
        kept["date"], kept["postgres"], kept["from"] = date, run.get("postgres", ""), keys
    for example_id, modes in drivers.items():
        kept["drivers"][example_id] = {"date": date, "from": keys, **modes}


def _fold_stories(snapshot: dict[str, Any], run: dict[str, Any], keys: list[str]) -> None:
    """Every case that measured a story, by example::scenario@topology (a later run's replaces it)."""
    kept = snapshot["stories"].setdefault(run.get("backend") or "native", {})
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            observed = case.get("observed") or {}
            figures = {name: observed[name] for name in STORY_FIGURES if isinstance(observed.get(name), dict)}
            if figures:
                topology = case.get("topology") or DIRECT
                kept[f"{example['id']}::{case_key(case['name'], topology)}"] = {
                    "example": example["id"], "name": case["name"], "topology": topology,
                    "outcome": case.get("outcome", ""), "message": case.get("message", ""),
                    "observed": figures, "from": keys}


def _drop_unquoted_runs(snapshot: dict[str, Any]) -> None:
    quoted = {k for e in snapshot["examples"].values() for r in e.get("runs", {}).values() for k in r.get("from", [])}
    for kept in snapshot["lifecycle"].values():
        quoted.update(kept.get("from", []), *(d.get("from", []) for d in kept.get("drivers", {}).values()))
    quoted.update(*(case["from"] for cases in snapshot["stories"].values() for case in cases.values()))
    snapshot["runs"] = {k: v for k, v in snapshot["runs"].items() if k in quoted}


def story_run(snapshot: dict[str, Any], backend: str) -> dict[str, Any]:
    """One backend's story cases as a results.json, for harness.reporting's story views."""
    examples: dict[str, list[dict[str, Any]]] = {}
    for case in (snapshot.get("stories") or {}).get(backend, {}).values():
        examples.setdefault(case["example"], []).append(case)
    return {"backend": backend, "examples": [{"id": example_id, "scenarios": cases}
                                             for example_id, cases in sorted(examples.items())]}


def runs_of(snapshot: dict[str, Any], example_id: str) -> list[BackendRun]:
    entry = snapshot["examples"].get(example_id) or {}
    return [BackendRun(backend, r.get("postgres", ""), r.get("first", ""), r.get("last", ""), r.get("scenarios", {}))
            for backend, r in sorted(entry.get("runs", {}).items())]


def example_of_tag(snapshot: dict[str, Any], tag: str) -> str | None:
    for example_id, entry in snapshot["examples"].items():
        if tag in entry.get("samples", {}):
            return example_id
    return None
