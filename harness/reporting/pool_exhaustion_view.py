"""Rows of the page's first story (`story_pool_exhaustion`) from results.json: per example, Run 1
(straight to the server) beside Run 2 (through PgBouncer in transaction mode, and a driver fix's
row of it), each with its figures (observed.pool_exhaustion); and, when only one half ran, the
command that runs the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.pooler import topology as as_topology
from harness.reporting.pgbouncer import fix_snippet

SCENARIO = "story_pool_exhaustion"
BEFORE = "direct"
AFTER = "pgbouncer-transaction"


@dataclass(frozen=True)
class StoryRun:
    topology: str
    outcome: str
    figures: dict[str, Any]   # observed.pool_exhaustion ({} when the case produced none)
    message: str = ""         # why it failed, or its known failure's reason
    snippet: str = ""         # the driver fix as a user pastes it ("" without one)

    @property
    def label(self) -> str:
        if self.topology == BEFORE:
            return "Run 1: straight to the server"
        where = as_topology(self.topology)
        return (f"Run 2: through PgBouncer {where.version} (transaction)"
                + (f" with {where.fix}" if where.fix else "")
                + (f" (in your code: {self.snippet})" if self.snippet else ""))


@dataclass(frozen=True)
class ExhaustionStory:
    example: str
    runs: tuple[StoryRun, ...]   # Run 1 first, then Run 2 and its fix rows
    missing: str                 # "" when both halves ran; else which one did not, and how to run it

    @property
    def before(self) -> StoryRun | None:
        return next((r for r in self.runs if r.topology == BEFORE), None)

    @property
    def after(self) -> StoryRun | None:
        """Run 2 as the chart shows it: the sample as written if it passed, else a fix row that did."""
        pooled = [r for r in self.runs if r.topology != BEFORE and r.figures]
        return next((r for r in pooled if r.outcome == "passed"), pooled[0] if pooled else None)

    @property
    def title(self) -> str:
        """The story named with the topologies of its rows: 'story_pool_exhaustion · direct · pgbouncer-transaction'."""
        return " · ".join((SCENARIO, *dict.fromkeys(r.topology for r in self.runs)))

    @property
    def page(self) -> str:
        """The page's figures (spec page_claim, recorded by the case), "" when no case recorded them."""
        return next((str(r.figures["page"]) for r in self.runs if r.figures.get("page")), "")


def rerun_command(example_id: str) -> str:
    return f"python -m harness run --example {example_id} --scenario {SCENARIO} --via {BEFORE},{AFTER}"


def exhaustion_stories(run: dict[str, Any]) -> list[ExhaustionStory]:
    """Every example that ran the story in either topology (n/a cases are not runs)."""
    stories = []
    for example in run.get("examples", []):
        runs = [StoryRun(str(c.get("topology") or BEFORE), str(c.get("outcome", "")),
                         dict((c.get("observed") or {}).get("pool_exhaustion") or {}), str(c.get("message") or ""),
                         fix_snippet(run, str(c.get("topology") or BEFORE)))
                for c in example.get("scenarios", [])
                if c.get("name") == SCENARIO and c.get("outcome") not in ("not_applicable", "skipped")
                and as_topology(str(c.get("topology") or BEFORE)).pool_mode in ("", "transaction")]
        if not runs:
            continue
        runs.sort(key=lambda r: (r.topology != BEFORE, r.topology))
        has_before = any(r.topology == BEFORE for r in runs)
        has_after = any(r.topology != BEFORE for r in runs)
        missing = "" if has_before and has_after else (
            f"{'Run 2 (through PgBouncer in transaction mode)' if has_before else 'Run 1 (straight to the server)'} "
            f"was not run; both halves: {rerun_command(example['id'])}")
        stories.append(ExhaustionStory(example["id"], tuple(runs), missing))
    return stories


def figure(run: StoryRun, key: str) -> str:
    value = run.figures.get(key)
    return "–" if value is None else str(value)


def one_line(story: ExhaustionStory) -> str:
    """The story in a line, for the terminal."""
    parts = []
    for run in (story.before, story.after):
        if run is None or not run.figures:
            continue
        f = run.figures
        fixed = f" (in your code: {run.snippet})" if run.snippet else ""
        parts.append(f"{run.topology}{fixed}: {f.get('refused')} of {f.get('requests')} requests refused (server logged "
                     f"{f.get('server_refusals')} × 53300, {f.get('retries', 0)} retried), p50/p95/max {f.get('latency_p50_ms')}/"
                     f"{f.get('latency_p95_ms')}/{f.get('latency_max_ms')} ms, {f.get('queued')} queued, "
                     f"backends peak {f.get('peak_backends')} (budget {f.get('budget')})")
    text = " → ".join(parts) + (f". The page: \"{story.page}\" (not asserted)." if story.page else ".")
    return text + (f" {story.missing}." if story.missing else "")
