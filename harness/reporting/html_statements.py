"""The figures of issue 14 in the HTML report: per example, what each scenario sent the server
(work, housekeeping, round trips, the most frequent shape); the N+1 story's line; and the
pool-size rule measured (chart, table per size, the one-line verdict on the page's claim)."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.reporting.pool_sizing_chart import pool_sizing_chart
from harness.reporting.statement_view import pool_sizing_runs, statement_rows, story_lines


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def statements_table(example: dict[str, Any]) -> str:
    rows = statement_rows(example)
    if not rows:
        return ""
    body = "".join(
        f'<tr><td class="name">{_e(r.scenario)}</td><td class="num">{r.work}</td><td class="num">{r.housekeeping}</td>'
        f'<td class="num">{r.round_trips}</td><td>'
        + "<br>".join(f'<span class="k">{calls} ×</span> <code>{_e(shape)}</code>' for shape, calls in r.top)
        + "</td></tr>"
        for r in rows)
    return ('<details class="statements"><summary>Statements per scenario (pg_stat_statements of the '
            "example's role; housekeeping: SET, SHOW, BEGIN/COMMIT, version and validation queries)</summary>"
            '<table class="observed"><thead><tr><th>scenario</th><th>work</th><th>housekeeping</th>'
            f"<th>round trips</th><th>top shapes of the work</th></tr></thead><tbody>{body}</tbody></table></details>")


def story_section(run: dict[str, Any]) -> str:
    lines = story_lines(run)
    if not lines:
        return ""
    return ('<h2 id="n-plus-one">The N+1 story, measured</h2>'
            + "".join(f"<p>{_e(line)}</p>" for line in lines))


def pool_sizing_section(run: dict[str, Any]) -> str:
    runs = pool_sizing_runs(run)
    chart = pool_sizing_chart(runs)
    if chart is None:
        return ""
    first = runs[0][1]
    parts = [f'<h2 id="pool-sizing">The pool-size rule, measured</h2><p>The page: "{_e(first["page"])}, benchmark '
             f'from there". Here: {first["cores"]} server cores, {first["spindles"]} spindles (SSD), so the formula '
             f'gives {first["formula"]}. The same burst (half CPU-bound on the server, half waiting) ran through '
             "pools of each size; judged only: no pool exceeded its size, and size 1 waited longer than the formula's size.</p>",
             f'<figure><img class="timeline" src="{chart}" alt="throughput and pool wait against pool size">'
             "<figcaption>Throughput and mean wait for a pool connection against pool size (log scale); "
             "dashed: the formula's size.</figcaption></figure>"]
    for example_id, sizing in runs:
        rows = "".join(
            f'<tr><td class="num">{r["size"]}</td><td class="num">{r["throughput_per_s"]}</td>'
            f'<td class="num">{r["latency_p50_ms"]}</td><td class="num">{r["latency_p95_ms"]}</td>'
            f'<td class="num">{r["wait_mean_ms"]}</td><td class="num">{r["peak_backends"]}</td></tr>'
            for r in sizing["sizes"])
        parts.append(f"<h3>{_e(example_id)}: {_e(sizing['verdict'])}</h3>"
                     '<table class="observed"><thead><tr><th>pool size</th><th>requests/s</th><th>p50 ms</th>'
                     "<th>p95 ms</th><th>mean pool wait ms</th><th>peak backends</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    return "".join(parts)
