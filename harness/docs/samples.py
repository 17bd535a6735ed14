"""reports/samples.json and a badge per page block: for each code block on each page, its tag,
where its code lives (file:lines), the scenarios that exercised that code in the latest run,
their outcome and the versions they ran on. A docs site can badge every block with when and
on what it was last proven.

Every scenario of an example calls its region (at least the connection or pool the region
builds: that is how the examples are built; docs/adding-a-driver.md asks it), so the scenarios
that exercised a block are the example's cases that ran; n/a and skipped ones did not. A region
whose code changed since the run is "stale"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.docs.check import page_blocks
from harness.docs.regions import Region
from harness.reporting.view import run_time
from harness.reporting.badges import SAMPLE_PREFIX as BADGE_PREFIX
from harness.reporting.badges import remove_stale, write_pair
from harness.reporting.view import NOT_APPLICABLE, SKIPPED, Standing, example_standing

INDEX = "samples.json"


def _proof(tag: str, region: Region | None, run: dict[str, Any]) -> dict[str, Any]:
    """What the run says about one region: its example, cases, outcome, versions."""
    for example in run.get("examples", []):
        recorded = next((s for s in example.get("samples", []) if s.get("tag") == tag), None)
        if recorded is None:
            continue
        cases = [{"name": c["name"], "outcome": c["outcome"]} for c in example.get("scenarios", [])
                 if c.get("outcome") not in (NOT_APPLICABLE, SKIPPED)]
        standing = example_standing(example)
        message, color = standing.message, standing.color
        fresh = region is not None and recorded.get("sha256") == region.sha256
        if not fresh:
            message, color = "stale: code changed since the run", "orange"
        return {"example": example["id"], "driver": example.get("driver", ""), "postgres": run.get("postgres", ""),
                "backend": run.get("backend", ""), "date": run_time(run).isoformat(timespec="seconds"),
                "proven_sha256": recorded.get("sha256"), "fresh": fresh, "scenarios": cases,
                "outcome": message, "color": color}
    return {"example": None, "outcome": "not run", "color": "lightgrey", "fresh": False, "scenarios": []}


def samples_index(pages: list[Path], root: Path, regions: dict[str, Region], run: dict[str, Any]) -> dict[str, Any]:
    blocks = []
    for page in pages:
        if not page.is_file():
            continue
        for number, block in enumerate(page_blocks(page.read_text(encoding="utf-8")), start=1):
            region = regions.get(block.tag or "")
            entry: dict[str, Any] = {"page": page.relative_to(root).as_posix(), "block": number,
                                     "page_line": block.line, "tag": block.tag}
            if region:
                entry.update({"file": region.path, "lines": [region.first_line, region.last_line],
                              "sha256": region.sha256})
            entry.update(_proof(block.tag or "", region, run))
            entry["badge"] = f"badges/{BADGE_PREFIX}{block.tag}.svg" if entry["example"] and block.tag else None
            blocks.append(entry)
    return {"schema": 1, "run": {"finished": run_time(run).isoformat(timespec="seconds"),
                                 "backend": run.get("backend", ""), "postgres": run.get("postgres", "")},
            "blocks": blocks}


def write_samples(index: dict[str, Any], reports_dir: Path) -> list[Path]:
    """samples.json and, per block the run proved, badges/sample-<tag>.svg and .json."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    badges = reports_dir / "badges"
    badges.mkdir(exist_ok=True)
    remove_stale(badges, owned=lambda name: name.startswith(BADGE_PREFIX))
    path = reports_dir / INDEX
    path.write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written = [path]
    for block in index["blocks"]:
        if not block.get("badge"):
            continue
        standing = Standing(f"sample {block['tag']}", block["outcome"], block["color"])
        written += write_pair(standing, badges, f"{BADGE_PREFIX}{block['tag']}")
    return written
