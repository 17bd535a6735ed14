"""Rows of the statement figures in results.json (observed.statements of each case, observed.story
of the N+1 story): what each case sent the server, for the HTML card and the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.statements import abbreviated

# Work shapes shown per scenario in the example's card.
TOP_WORK_SHAPES = 3


@dataclass(frozen=True)
class StatementRow:
    scenario: str
    work: int
    housekeeping: int
    round_trips: int
    top: tuple[tuple[str, int], ...]   # the work's most frequent shapes (abbreviated) with their calls


def statement_rows(example: dict[str, Any]) -> list[StatementRow]:
    rows = []
    for case in example.get("scenarios", []):
        figures = (case.get("observed") or {}).get("statements")
        if not isinstance(figures, dict):
            continue
        top = tuple((abbreviated(str(s.get("shape", "")), 140), int(s.get("calls", 0)))
                    for s in figures.get("top", []) if not s.get("housekeeping"))[:TOP_WORK_SHAPES]
        rows.append(StatementRow(case["name"], int(figures.get("work", 0)), int(figures.get("housekeeping", 0)),
                                 int(figures.get("round_trips", 0)), top))
    return rows


def story_lines(run: dict[str, Any]) -> list[str]:
    """One line per example that told the N+1 story, beside the page's claim."""
    lines = []
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            story = (case.get("observed") or {}).get("story")
            if not isinstance(story, dict):
                continue
            naive, eager = story.get("naive", {}), story.get("eager", {})
            lines.append(f"{example['id']}: {story.get('users')} users, {naive.get('statements')} statements lazily "
                         f"instead of {eager.get('statements')} eagerly; round trips {naive.get('round_trips')} → "
                         f"{eager.get('round_trips')} (−{story.get('round_trips_reduced_percent')}%); wall time "
                         f"{naive.get('ms')} ms → {eager.get('ms')} ms (×{story.get('wall_time_ratio')}). "
                         f"The page: \"{story.get('page')}\".")
    return lines


def pool_sizing_runs(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(example id, observed.pool_sizing) of every example that measured the pool-size rule."""
    found = []
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            sizing = (case.get("observed") or {}).get("pool_sizing")
            if isinstance(sizing, dict) and sizing.get("sizes"):
                found.append((example["id"], sizing))
    return found
