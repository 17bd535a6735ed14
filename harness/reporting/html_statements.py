"""The statement figures in the HTML report: per example, what each scenario sent the server
(work, housekeeping, round trips, the most frequent shape), and the N+1 story's line."""

from __future__ import annotations

from html import escape
from typing import Any

from harness.reporting.statement_view import statement_rows, story_lines


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def statements_table(example: dict[str, Any]) -> str:
    rows = statement_rows(example)
    if not rows:
        return ""
    body = "".join(
        f'<tr><td class="name">{_e(r.scenario)}</td><td class="num">{r.work}</td><td class="num">{r.housekeeping}</td>'
        f'<td class="num">{r.round_trips}</td><td><code>{_e(r.top)}</code>'
        + (f" <span class=\"k\">× {r.top_calls}</span>" if r.top else "") + "</td></tr>"
        for r in rows)
    return ('<details class="statements"><summary>Statements per scenario (pg_stat_statements of the '
            "example's role; housekeeping: SET, SHOW, BEGIN/COMMIT, version and validation queries)</summary>"
            '<table class="observed"><thead><tr><th>scenario</th><th>work</th><th>housekeeping</th>'
            f"<th>round trips</th><th>top shape of the work</th></tr></thead><tbody>{body}</tbody></table></details>")


def story_section(run: dict[str, Any]) -> str:
    lines = story_lines(run)
    if not lines:
        return ""
    return ('<h2 id="n-plus-one">The N+1 story, measured</h2>'
            + "".join(f"<p>{_e(line)}</p>" for line in lines))
