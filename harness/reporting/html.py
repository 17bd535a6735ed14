"""reports/index.html: the run on one static, self-contained page (inline CSS, figures as data
URIs, no script, a Content-Security-Policy that forbids every fetch).

  header    PostgreSQL version, backend, date, duration, totals
  matrix    scenario x example; each cell a symbol AND a colour; an n/a cell's reason as a numbered
            note under the table (a tooltip alone is out of reach on a phone)
  failures  per failed / xpassed / known-failure case: details (diff, stderr, server view) and
            the reproduce command, in <details>
  examples  per example: the observed figures of each case in a compact table, and for pooled
            examples the connection-count timeline of the pool scenarios
  connect   connect-time figures per driver, when the cases observed them (connect_p50_ms ...)"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from harness.docs.card import samples_html
from harness.reporting.badges import svg
from harness.reporting.benchmark import benchmark_section, read_benchmark
from harness.reporting.charts import connect_chart, timeline_cases, timeline_chart, waterfall_chart
from harness.reporting.html_pool_exhaustion import pool_exhaustion_section
from harness.reporting.cutover_view import cutover_section
from harness.reporting.html_statements import pool_sizing_section, statements_table, story_section
from harness.reporting.html_style import CSS
from harness.reporting.pgbouncer import html_section as pgbouncer_section
from harness.reporting.view import (BAD, FAILED, NOT_APPLICABLE, OUTCOMES, PASSED, SKIPPED, XFAILED, XPASSED,
                                    ConnectRow, Section, case_anchor, case_title, connect_rows, example_anchor, example_standing, failed_cases,
                                    failure_sections, look, matrix_rows, ms, outcome_counts, page_claims, run_standing)

INDEX = "index.html"



def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _chip(outcome: str, text: str) -> str:
    shown = look(outcome)
    return f'<span class="chip {shown.css}">{shown.symbol} {_e(text)}</span>'


def _value(value: Any) -> tuple[str, str]:
    """(shown, full) text of an observed value."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.4g}"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    return (text if len(text) <= 72 else text[:70] + "…"), text


def _section(section: Section) -> str:
    """One piece of a failure; a diff's lines marked (+ actual, - expected)."""
    lines = []  # a marked line is a block span holding its own line feed, so it adds no blank line
    for kind, line in section.lines:
        lines.append(f'<span class="{kind}">{_e(line)}\n</span>' if kind else _e(line) + "\n")
    return f'<div class="label">{_e(section.label)}</div><pre class="block">' + "".join(lines).rstrip("\n") + "</pre>"


def _header(run: dict[str, Any], generated: datetime) -> str:
    counts = outcome_counts(run)
    examples = run.get("examples", [])
    overall = run_standing(run)
    ok = overall.ok
    facts = [("PostgreSQL", run.get("postgres") or "?"), ("backend", run.get("backend") or "?"),
             ("date", generated.strftime("%Y-%m-%d %H:%M %Z").strip()), ("duration", f"{float(run.get('seconds') or 0):.1f} s"),
             ("examples", len(examples)), ("cases", sum(counts.values()))]
    chips = "".join(_chip(o, f"{counts[o]} {look(o).total}") for o in OUTCOMES if counts[o])
    return (
        '<header class="run"><div>'
        "<h1>PostgreSQL client conformance</h1>"
        '<p class="facts">' + "".join(f"<span>{_e(k)} <b>{_e(v)}</b></span>" for k, v in facts) + "</p>"
        f'<div class="totals">{chips}</div></div>'
        f'<div><span class="verdict {"ok" if ok else "bad"}" id="verdict">{"✔ PASSED" if ok else "✘ FAILED"} · '
        f"{_e(overall.message)}</span></div></header>"
    )


def _errors(run: dict[str, Any]) -> str:
    if not run.get("errors"):
        return ""
    items = "".join(f"<pre>{_e(error)}</pre>" for error in run["errors"])
    return f'<div class="errors" id="run-errors"><b>✘ run errors ({len(run["errors"])})</b>{items}</div>'


def _na_reason(case: dict[str, Any]) -> str:
    return str(case.get("message") or "no reason given")


def _na_notes(run: dict[str, Any]) -> dict[str, int]:
    """Each distinct reason of the matrix's n/a cells, numbered in the matrix's order."""
    notes: dict[str, int] = {}
    for row in matrix_rows(run):
        for case in row.cases:
            if case is not None and case.get("outcome") == NOT_APPLICABLE:
                notes.setdefault(_na_reason(case), len(notes) + 1)
    return notes


def _cell(example: dict[str, Any], case: dict[str, Any] | None, notes: dict[str, int]) -> str:
    if case is None:
        return '<td class="cell na" title="not part of this run"><span class="in"></span></td>'
    outcome = case.get("outcome", "")
    shown = look(outcome)
    symbol, word, css = shown.symbol, shown.word, shown.css
    tip = [f"{example['id']} :: {case['name']}", word]
    if case.get("message"):
        tip.append(case["message"])
    if outcome not in (NOT_APPLICABLE, SKIPPED):
        tip.append(f"{float(case.get('seconds') or 0):.2f} s")
    inner = f'<span class="sym" aria-hidden="true">{symbol}</span>'
    if outcome == NOT_APPLICABLE:
        number = notes[_na_reason(case)]
        inner += f'<span class="word">{_e(word)}<sup class="note">{number}</sup></span>'
    elif outcome != PASSED:
        inner += f'<span class="word">{_e(word)}</span>'
    title = _e("\n".join(tip))
    if case.get("details") or outcome in BAD or outcome == XFAILED:
        body = f'<a href="#{case_anchor(example["id"], case["name"])}">{inner}</a>'
    else:
        target = example_anchor(example["id"])
        body = f'<a href="#{target}">{inner}</a>' if case.get("observed") else f'<span class="in">{inner}</span>'
    return f'<td class="cell {css}" data-outcome="{_e(outcome)}" title="{title}">{body}</td>'


def _matrix(run: dict[str, Any]) -> str:
    examples = run.get("examples", [])
    rows_of = matrix_rows(run)
    notes = _na_notes(run)
    legend = "".join(f'<span>{_chip(o, look(o).word)} {_e(text)}</span>' for o, text in (
        (PASSED, ""), (FAILED, ""), (XFAILED, "failed as known"), (XPASSED, "known failure passed"),
        (SKIPPED, "not declared"), (NOT_APPLICABLE, "does not apply (why: the numbered notes under the table)")))
    head = '<th class="scenario" scope="col">scenario</th>'
    foot = '<th class="scenario">passing</th>'
    for example in examples:
        badge = example_standing(example)
        css = {"brightgreen": "passed", "red": "failed", "yellow": "skipped"}.get(badge.color, "na")
        head += (f'<th scope="col"><a href="#{example_anchor(example["id"])}">{_e(example["id"])}</a>'
                 f'<span class="driver">{_e(example.get("driver", ""))}</span></th>')
        foot += f'<td><span class="chip {css}">{_e(badge.message)}</span></td>'
    rows = []
    for row in rows_of:
        cells = "".join(_cell(e, case, notes) for e, case in zip(examples, row.cases))
        rows.append(f'<tr><th class="scenario" scope="row">{_e(row.scenario)}</th>{cells}</tr>')
    return (
        '<h2 id="matrix-title">Matrix</h2>'
        f'<div class="legend">{legend}</div>'
        f'<div class="matrix-wrap"><table class="matrix" id="matrix" data-examples="{len(examples)}" '
        f'data-scenarios="{len(rows_of)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        f"<tfoot><tr>{foot}</tr></tfoot></table></div>"
        + (f'<ol class="na-notes" id="na-notes">{"".join(f"<li>n/a: {_e(reason)}</li>" for reason in notes)}</ol>'
           if notes else "")
    )


def _failures(run: dict[str, Any]) -> str:
    blocks = []
    for example, case in failed_cases(run, with_known=True):
        outcome = case.get("outcome", "")
        word, css = look(outcome).word, look(outcome).css
        parts = []
        if case.get("reproduce"):
            parts.append(f'<div class="label">reproduce</div><pre class="repro">{_e(case["reproduce"])}</pre>')
        parts += [_section(section) for section in failure_sections(case)]
        for stream in ("stdout", "stderr"):
            if case.get(stream):
                parts.append(f'<details class="output"><summary>example {stream} '
                             f'({len(case[stream].splitlines())} lines)</summary>'
                             f'<pre class="block">{_e(case[stream])}</pre></details>')
        blocks.append(
            f'<details class="case {css}" id="{case_anchor(example["id"], case["name"])}"{" open" if outcome in BAD else ""}>'
            f'<summary>{_chip(outcome, word)}<span class="id">{_e(example["id"])} :: {_e(case["name"])}</span>'
            f'<span class="msg">{_e(case.get("message", ""))}</span></summary>'
            f'<div class="case-body">{"".join(parts)}</div></details>')
    if not blocks:
        return ""
    return '<h2 id="failures">Failures and known failures</h2>' + "".join(blocks)


def _observed_row(case: dict[str, Any]) -> str:
    figures = []
    for key, value in (case.get("observed") or {}).items():
        if key in ("statements", "story", "pool_sizing", "pool_exhaustion", "cutover"):  # their own tables and sections
            continue
        if key == "timeline":
            figures.append(f'<span class="kv"><span class="k">timeline</span> <span class="v">'
                           f'{len(value) if isinstance(value, list) else 0} samples</span></span>')
            continue
        shown, full = _value(value)
        figures.append(f'<span class="kv" title="{_e(key)} = {_e(full)}"><span class="k">{_e(key)}</span> '
                       f'<span class="v">{_e(shown)}</span></span>')
    outcome = case.get("outcome", "")
    word = look(outcome).word
    return (f'<tr><td class="name">{_e(case_title(case))}</td><td class="res">{_chip(outcome, word)}</td>'
            f'<td class="num">{float(case.get("seconds") or 0):.2f} s</td><td>{"".join(figures) or "—"}</td></tr>')


def _example_section(example: dict[str, Any]) -> str:
    badge = example_standing(example)
    build = example.get("build") or {}
    meta = [example.get("driver", ""), example.get("language", "")]
    if build:
        meta.append(f"build {float(build.get('seconds') or 0):.1f} s" + (" (cached)" if build.get("cached") else ""))
    if example.get("reason"):
        meta.append(example["reason"])
    run_cases = [c for c in example.get("scenarios", []) if c.get("outcome") != NOT_APPLICABLE]
    not_applicable: dict[str, list[str]] = {}
    for case in example.get("scenarios", []):
        if case.get("outcome") == NOT_APPLICABLE:
            not_applicable.setdefault(case.get("message") or "no reason given", []).append(case["name"])
    body = samples_html(example)   # the page's code this example proved, first
    if run_cases:
        body += ('<table class="observed"><thead><tr><th>scenario</th><th>result</th><th>time</th><th>observed</th>'
                 "</tr></thead><tbody>" + "".join(_observed_row(c) for c in run_cases) + "</tbody></table>")
    body += statements_table(example)
    for reason, names in not_applicable.items():
        body += f'<p class="na-note">· n/a ({len(names)}): {_e(", ".join(names))}: {_e(reason)}</p>'
    chart = timeline_chart(example)
    if chart:
        shown = ", ".join(case_title(c) for c in timeline_cases(example))
        body += (f'<figure><img class="timeline" src="{chart}" alt="connection count over time during {_e(shown)}">'
                 "<figcaption>Server backends of the case's database over time, sampled from "
                 "pg_stat_activity during each pool scenario; dashed: the peak.</figcaption></figure>")
    return (f'<section class="example" id="{example_anchor(example["id"])}"><header><h3>{_e(example["id"])}</h3>'
            f'<img class="badge" src="{_svg_uri(svg(badge))}" alt="{_e(badge.label)}: {_e(badge.message)}">'
            f'<span class="meta">{_e(" · ".join(m for m in meta if m))}</span></header>{body}</section>')


def _cell_ms(figures: dict[str, Any], key: str) -> str:
    return f"<td>{ms(figures.get(key))}</td>"


def _link_cell(row: ConnectRow) -> str:
    """The connect median over the simulated link (the probe's row over the link, a driver's
    connect_latency_remote), with its round-trip time: beside the page's remote-with-SSL claim."""
    if row.probe:
        return ms(row.tls.get("connect_p50_ms")) + " (this row)" if row.remote else "—"
    if "connect_p50_ms" not in row.link:
        return "—"
    return f"{ms(row.link['connect_p50_ms'])} ({row.link.get('link_rtt_ms', 0):g} ms RTT)"


def _lifecycle(run: dict[str, Any]) -> str:
    """The connection lifecycle: the probe's step waterfall beside each driver's connect times and
    the page's claim, then the figures as a table."""
    probe = (run.get("lifecycle") or {}).get("probe")
    connect = connect_rows(run)
    if not connect:
        return ""
    claim = page_claims(run)
    parts = [f'<h2 id="lifecycle">Connection lifecycle</h2><p class="claim">The page: “creating a new connection '
             f'takes {claim["local"][0]}-{claim["local"][1]}ms (local) or {claim["remote_ssl"][0]}-'
             f'{claim["remote_ssl"][1]}ms (remote with SSL)”. Measured here against this run\'s local server '
             '(shaded: the local claim).</p><div class="lifecycle">']
    if probe:
        chart = waterfall_chart(probe, claim.get("local"), "the page: new local connection")
        if chart:
            parts.append(f'<figure><img class="waterfall" src="{chart}" alt="connection steps, median ms">'
                         f'<figcaption>The harness probe: each step on its own, median of {probe.get("samples")} '
                         f'fresh connections to {_e(probe.get("host"))}; authentication '
                         f'{_e(probe["plain"].get("auth_mechanism"))}, TLS {_e(probe["tls"].get("tls_version"))}.'
                         '</figcaption></figure>')
        remote = probe.get("remote")
        chart = waterfall_chart(remote, claim.get("remote_ssl"), "the page: remote with SSL") if remote else None
        if chart:
            parts.append(f'<figure><img class="waterfall remote" src="{chart}" alt="connection steps over a '
                         f'{remote["rtt_ms"]:g} ms link">'
                         f'<figcaption>The same steps over a simulated link of {remote["rtt_ms"]:g} ms round-trip '
                         f'time ({_e(remote.get("link"))}, median of {remote.get("samples")}): the TCP handshake is '
                         'made with the local relay, so a real link adds one more round trip before TLS.'
                         '</figcaption></figure>')
    chart = connect_chart(connect, claim.get("local"))
    if chart:
        parts.append(f'<figure><img class="connect" src="{chart}" alt="new connection time per driver">'
                     '<figcaption>Each driver\'s own connect call (connect_latency and connect_latency_tls), '
                     'beside the probe.</figcaption></figure>')
    parts.append("</div>")
    head = ("<tr><th>driver</th><th>connect p50 ms</th><th>connect p95 ms</th><th>TLS p50 ms</th><th>TLS p95 ms</th>"
            "<th>query p50 ms</th><th>server auth p50 ms<br>(plain / TLS)</th><th>over the link: TLS p50 ms</th></tr>")
    rows = []
    for row in connect:
        plain, tls = row.plain, row.tls
        auth = " / ".join(f"{m['server_auth_p50_ms']:.0f}" if "server_auth_p50_ms" in m else "—" for m in (plain, tls))
        query = ms(plain.get("query_p50_ms")) + (" (through the pool)" if row.pooled else "")
        rows.append(f"<tr><td>{_e(row.label)}</td>{_cell_ms(plain, 'connect_p50_ms')}{_cell_ms(plain, 'connect_p95_ms')}"
                    f"{_cell_ms(tls, 'connect_p50_ms')}{_cell_ms(tls, 'connect_p95_ms')}<td>{query}</td><td>{auth}</td>"
                    f"<td>{_link_cell(row)}</td></tr>")
    parts.append(f'<table class="connect">{head}{"".join(rows)}</table>')
    return "".join(parts)


def render_html(run: dict[str, Any], generated: datetime, benchmark: dict[str, Any] | None = None) -> str:
    examples = "".join(_example_section(e) for e in run.get("examples", []))
    title = f"PostgreSQL client conformance · {run_standing(run).message}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">"
        '<link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        + _header(run, generated) + _errors(run) + _matrix(run) + pgbouncer_section(run) + _failures(run)
        + (f'<h2 id="examples">Observed, per example</h2>{examples}' if examples else "")
        + story_section(run) + pool_sizing_section(run) + pool_exhaustion_section(run) + cutover_section(run)
        + _lifecycle(run) + benchmark_section(benchmark)
        + '<footer>Generated by pg-sample-harness from results.json. Replayed step by step: '
        '<a href="simulator.html">the Connection Simulator</a>. Machine-readable: '
        '<a href="results.json">results.json</a>, <a href="junit/all.xml">junit/all.xml</a>, '
        '<a href="badges/overall.json">badges/</a>.</footer>'
        "</main></body></html>\n"
    )


def write_html(run: dict[str, Any], reports_dir: Path, generated: datetime) -> Path:
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / INDEX
    # ci/benchmark.py's figures, when it wrote them beside this run's results.
    path.write_text(render_html(run, generated, read_benchmark(reports_dir)), encoding="utf-8")
    return path
