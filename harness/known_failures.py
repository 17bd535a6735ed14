"""Keeps known-failure lists honest: `--update-known-failures` removes every entry whose case
passed (xpassed), rewriting only the `known_failures:` block of the manifest so that comments and
the rest of the file stay as written. It never adds entries: a new failure stays a failure."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from harness.manifest import Example
from harness.outcome import Outcome, RunResult

BLOCK = re.compile(r"^known_failures:.*?(?=^\S|\Z)", re.S | re.M)


def rewrite_without(manifest: Path, scenarios: set[str]) -> list[str]:
    """Removes the entries for `scenarios`; returns the names removed."""
    text = manifest.read_text(encoding="utf-8")
    match = BLOCK.search(text)
    if match is None:
        return []
    entries = (yaml.safe_load(match.group(0)) or {}).get("known_failures") or []
    kept = [e for e in entries if e.get("scenario") not in scenarios]
    removed = [e["scenario"] for e in entries if e.get("scenario") in scenarios]
    if not removed:
        return []
    block = yaml.safe_dump({"known_failures": kept}, allow_unicode=True, sort_keys=False) if kept else ""
    manifest.write_text(text[: match.start()] + block + text[match.end():], encoding="utf-8")
    return removed


def update_known_failures(run: RunResult, examples: list[Example]) -> list[str]:
    """One line per manifest changed: its listed known failures that passed are removed (xpassed,
    or passed when judged with prune_known_failures, as --update-known-failures does)."""
    by_id = {e.id: e for e in examples}
    changes = []
    for result in run.examples:
        example = by_id.get(result.id)
        if example is None:
            continue
        passed = {s.name for s in result.scenarios
                  if s.outcome in (Outcome.XPASSED, Outcome.PASSED) and s.name in example.known_failures}
        if passed:
            removed = rewrite_without(example.manifest, passed)
            if removed:
                changes.append(f"{example.manifest}: removed known failures {', '.join(sorted(removed))} (they pass now)")
    return changes
