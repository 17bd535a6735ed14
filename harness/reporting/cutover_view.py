"""The PAUSE/RESUME cutover story in the reports: one row per measured case (example, topology,
the cutover or its limit) from results.json's observed.cutover, a terminal line each, and the
HTML section that sets the pause window and the longest transaction beside the page's
"3 seconds" (shown, not asserted) and states the limit with the error the clients got."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from harness.reporting.pgbouncer import fix_snippet

LIMIT = "story_pause_resume_limit"


@dataclass(frozen=True)
class CutoverRow:
    example: str
    topology: str
    scenario: str
    outcome: str
    figures: dict[str, Any]
    snippet: str = ""   # the driver fix as a user pastes it ("" without one)

    @property
    def is_limit(self) -> bool:
        return self.scenario == LIMIT

    @property
    def errors(self) -> str:
        errors = self.figures.get("errors") or {}
        return "; ".join(f"{count} × {text}" for text, count in errors.items()) or "none"

    def line(self) -> str:
        f = self.figures
        what = (f"query_wait_timeout {f.get('query_wait_timeout_s')} s, switch held {f.get('pause_window_ms')} ms: "
                f"{f.get('cut_off', 0)} clients cut off" if self.is_limit else
                f"pause window {f.get('pause_window_ms')} ms (PAUSE returned in {f.get('pause_returned_ms')} ms)")
        fixed = f" (in your code: {self.snippet})" if self.snippet else ""
        return (f"{self.example}@{self.topology}{fixed}: {what}; longest transaction {f.get('max_latency_warm_ms')} ms; "
                f"{f.get('acknowledged')} acknowledged ({f.get('on_old_server')} old + {f.get('on_new_server')} new "
                f"server), lost {f.get('lost')}, twice {f.get('twice')}; errors: {self.errors} [{self.outcome}]"
                + (f"; the page: \"{f['page']}\" (not asserted)" if f.get("page") else ""))


def cutover_rows(run: dict[str, Any]) -> list[CutoverRow]:
    rows = []
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            figures = (case.get("observed") or {}).get("cutover")
            if isinstance(figures, dict) and "pause_window_ms" in figures:
                rows.append(CutoverRow(example["id"], case.get("topology", "direct"), case["name"],
                                       case.get("outcome", ""), figures,
                                       fix_snippet(run, str(case.get("topology", "direct")))))
    return rows


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def cutover_section(run: dict[str, Any]) -> str:
    rows = cutover_rows(run)
    if not rows:
        return ""
    body = "".join(
        f'<tr><td class="name">{_e(r.example)}<br><span class="k">{_e(r.topology)}</span>'
        + (f'<br><code>{_e(r.snippet)}</code>' if r.snippet else "") + '</td>'
        f'<td>{"limit" if r.is_limit else "cutover"}</td><td>{_e(r.outcome)}</td>'
        f'<td class="num">{_e(r.figures.get("pause_window_ms"))}</td>'
        f'<td class="num">{_e(r.figures.get("max_latency_warm_ms"))}</td>'
        f'<td class="num">{_e(r.figures.get("acknowledged"))}</td>'
        f'<td class="num">{_e(r.figures.get("on_old_server"))} / {_e(r.figures.get("on_new_server"))}</td>'
        f'<td class="num">{_e(r.figures.get("lost"))} / {_e(r.figures.get("twice"))}</td>'
        f"<td>{_e(r.errors)}</td></tr>"
        for r in rows)
    page = next((str(r.figures["page"]) for r in rows if r.figures.get("page")), "")
    quote = next((str(r.figures["page_quote"]) for r in rows if r.figures.get("page_quote")), "")
    said = f'The page: "{_e(quote or page)}" ' if page else ""
    return ('<h2 id="cutover">The PAUSE/RESUME cutover, measured</h2><p>' + said + 'Here each pooled example streamed short '
            "write transactions through PgBouncer (transaction pooling) while the harness PAUSEd its database, "
            "pointed it at a second server, RELOADed and RESUMEd. Judged: no client error, every acknowledged id on "
            "exactly one server, the later writes on the new one, no connection left on the old one. The pause "
            f"window and the longest transaction are shown beside the page's figures ({_e(page or 'not recorded')}), "
            "not judged. The limit: a "
            "switch held longer than query_wait_timeout cuts the waiting clients off with PgBouncer's error.</p>"
            '<table class="observed"><thead><tr><th>example</th><th>case</th><th>outcome</th>'
            "<th>pause window ms</th><th>longest transaction ms</th><th>acknowledged</th><th>old / new server</th>"
            f"<th>lost / twice</th><th>errors the clients saw</th></tr></thead><tbody>{body}</tbody></table>")
