"""Badges: reports/badges/<language>-<name>.svg (anybadge) and .json (a shields.io endpoint:
https://shields.io/badges/endpoint-badge), plus overall.svg / overall.json for the whole run.

The message counts the applicable cases (everything but n/a): "14/14 passing" when none is bad
(passed and known failures count as passing), "3 failing" when any failed or xpassed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anybadge

from harness.reporting.common import FAILED, SKIPPED, Tally, file_stem

BADGE_DIR = "badges"
OVERALL = "overall"
OVERALL_LABEL = "conformance"

# shields.io's named colours, and the same colours for the SVGs anybadge draws.
HEX = {"brightgreen": "#4c1", "yellow": "#dfb317", "orange": "#fe7d37", "red": "#e05d44",
       "lightgrey": "#9f9f9f"}


@dataclass(frozen=True)
class BadgeSpec:
    label: str
    message: str
    color: str  # a shields.io colour name (a key of HEX)

    def endpoint(self) -> dict[str, Any]:
        return {"schemaVersion": 1, "label": self.label, "message": self.message, "color": self.color}

    def svg(self) -> str:
        badge = anybadge.Badge(label=self.label, value=self.message, default_color=HEX[self.color])
        return badge.badge_svg_text


def judge(tally: Tally, *, outcome: str = "", reason: str = "", errors: int = 0) -> tuple[str, str]:
    """(message, colour) for a set of cases."""
    if tally.bad:
        return f"{tally.bad} failing", "red"
    if outcome == FAILED or errors:
        return ("error" if errors else "failing"), "red"
    if tally.total == 0:
        return ("skipped" if outcome == SKIPPED else "no cases"), "lightgrey"
    message = f"{tally.passing}/{tally.total} passing"
    return message, ("brightgreen" if tally.passing == tally.total else "yellow")


def example_badge(example: dict[str, Any]) -> BadgeSpec:
    message, color = judge(Tally.of(example.get("scenarios", [])), outcome=example.get("outcome", ""))
    return BadgeSpec(example["id"], message, color)


def overall_badge(run: dict[str, Any]) -> BadgeSpec:
    tally = Tally.of([])
    failed_examples = 0
    for example in run.get("examples", []):
        tally = tally + Tally.of(example.get("scenarios", []))
        failed_examples += example.get("outcome") == FAILED
    message, color = judge(tally, outcome=FAILED if failed_examples else "", errors=len(run.get("errors", [])))
    return BadgeSpec(OVERALL_LABEL, message, color)


def _write(spec: BadgeSpec, out: Path, stem: str) -> list[Path]:
    svg, endpoint = out / f"{stem}.svg", out / f"{stem}.json"
    svg.write_text(spec.svg(), encoding="utf-8")
    endpoint.write_text(json.dumps(spec.endpoint(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [svg, endpoint]


def write_badges(run: dict[str, Any], reports_dir: Path) -> list[Path]:
    out = reports_dir / BADGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob("*.svg"), *out.glob("*.json")]:
        stale.unlink()
    written = []
    for example in run.get("examples", []):
        written += _write(example_badge(example), out, file_stem(example["id"]))
    written += _write(overall_badge(run), out, OVERALL)
    return written
