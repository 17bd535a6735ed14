"""The page's first story in the HTML report: per example, Run 1 (straight to the server) and
Run 2 (through PgBouncer in transaction mode) side by side in a table and a chart, beside the
page's "2 s → 50 ms"; with one half only, which one did not run and the command that runs it."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.reporting.pool_exhaustion_chart import exhaustion_chart
from harness.reporting.pool_exhaustion_view import exhaustion_stories, figure
from harness.reporting.view import look

# (column, key of observed.pool_exhaustion)
COLUMNS = (("requests", "requests"), ("served", "succeeded"), ("refused (53300)", "refused"),
           ("failed", "failed"), ("server refusals", "server_refusals"), ("retried", "retries"), ("queued", "queued"),
           ("p50 ms", "latency_p50_ms"), ("p95 ms", "latency_p95_ms"), ("max ms", "latency_max_ms"),
           ("wait p95 ms", "wait_p95_ms"), ("pool max", "pool_max"), ("peak backends", "peak_backends"),
           ("budget", "budget"))


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def pool_exhaustion_section(run: dict[str, Any]) -> str:
    stories = exhaustion_stories(run)
    if not stories:
        return ""
    first = next((r.figures for s in stories for r in s.runs if r.figures), {})
    parts = [f'<h2 id="pool-exhaustion">Pool exhaustion, fixed by a central pooler: measured</h2><p>The page: services '
             f'with pools of 20 against max_connections, long queries holding connections while others queued; the '
             f'fix was PgBouncer with each service cut to 5 connections, "{_e(stories[0].page)}". Here: '
             f'{_e(first.get("services", "?"))} services (independent pools in one process) under the same steady '
             f'load with long queries, against a budget of {_e(first.get("budget", "?"))} connections (the role\'s '
             "connection limit, half the pools' sum). Asserted: straight to the server connections are refused "
             "(53300) and the backends peak at the budget; through PgBouncer none is refused and the backends "
             "never exceed the budget. Latency and queueing are measured, not asserted; the page's figure is "
             "shown beside them.</p>"]
    head = "".join(f"<th>{_e(name)}</th>" for name, _ in COLUMNS)
    for story in stories:
        rows = "".join(
            f'<tr><td class="name">{_e(r.label)} <span class="topology">· {_e(r.topology)}</span></td><td title="{_e(r.message)}">{_e(look(r.outcome).short)}</td>'
            + "".join(f'<td class="num">{_e(figure(r, key))}</td>' for _, key in COLUMNS) + "</tr>"
            for r in story.runs)
        parts.append(f"<h3>{_e(story.example)}: {_e(story.title)}</h3>"
                     f'<table class="observed"><thead><tr><th>run</th><th>outcome</th>{head}</tr></thead>'
                     f"<tbody>{rows}</tbody></table>")
        for r in story.runs:
            if r.outcome != "passed" and r.message:
                parts.append(f'<p class="na-note">{_e(r.label)}: {_e(look(r.outcome).word)}: {_e(r.message)}</p>')
        if story.missing:
            parts.append(f'<p class="na-note">{_e(story.missing)}</p>')
        chart = exhaustion_chart(story)
        if chart:
            parts.append(f'<figure><img class="timeline" src="{chart}" alt="request latency and server connections, '
                         f'Run 1 beside Run 2, for {_e(story.example)}: {_e(story.title)}"><figcaption>{_e(story.title)}. Left: request latency (the wait '
                         "for a pool connection included); dashed: the page's 2 s before and 50 ms after. Right: "
                         "requests refused, refusals the server logged, and the most backends at once; dashed: the "
                         "budget.</figcaption></figure>")
    return "".join(parts)
