"""Badges: reports/badges/<language>-<name>.svg (anybadge) and .json (a shields.io endpoint:
https://shields.io/badges/endpoint-badge), plus overall.svg / overall.json for the whole run. The page blocks' badges
(badges/sample-<tag>.*, harness.docs.samples) live beside them; each writer removes only its own.

The message counts the applicable cases (everything but n/a): "14/14 passing" when none is bad
(passed and known failures count as passing), "3 failing" when any failed or xpassed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anybadge

from harness.reporting.view import Standing, example_standing, file_stem, run_standing

BADGE_DIR = "badges"
OVERALL = "overall"
# The page blocks' badges (harness.docs.samples) share the folder, under this prefix: each writer
# replaces only its own files, so neither deletes the other's.
SAMPLE_PREFIX = "sample-"

# shields.io's named colours, and the same colours for the SVGs anybadge draws.
HEX = {"brightgreen": "#4c1", "yellow": "#dfb317", "orange": "#fe7d37", "red": "#e05d44",
       "lightgrey": "#9f9f9f"}


def endpoint(standing: Standing) -> dict[str, Any]:
    return {"schemaVersion": 1, "label": standing.label, "message": standing.message, "color": standing.color}


def svg(standing: Standing) -> str:
    return anybadge.Badge(label=standing.label, value=standing.message, default_color=HEX[standing.color]).badge_svg_text


def write_pair(standing: Standing, out: Path, stem: str) -> list[Path]:
    """<stem>.svg and <stem>.json (the shields.io endpoint) of one badge."""
    svg_path, endpoint_path = out / f"{stem}.svg", out / f"{stem}.json"
    svg_path.write_text(svg(standing), encoding="utf-8")
    endpoint_path.write_text(json.dumps(endpoint(standing), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return [svg_path, endpoint_path]


def write_badges(run: dict[str, Any], reports_dir: Path) -> list[Path]:
    out = reports_dir / BADGE_DIR
    out.mkdir(parents=True, exist_ok=True)
    remove_stale(out, owned=lambda name: not name.startswith(SAMPLE_PREFIX))
    written = []
    for example in run.get("examples", []):
        written += write_pair(example_standing(example), out, file_stem(example["id"]))
    written += write_pair(run_standing(run), out, OVERALL)
    return written


def remove_stale(out: Path, owned: Callable[[str], bool]) -> None:
    """The badges of an earlier run that one writer owns (by name), before it writes this run's."""
    for stale in [*out.glob("*.svg"), *out.glob("*.json")]:
        if owned(stale.name):
            stale.unlink()
