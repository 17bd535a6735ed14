"""reports/index.html: the run on one static, self-contained page (inline CSS, figures as data
URIs, no script, a Content-Security-Policy that forbids every fetch).

  header    PostgreSQL version, backend, date, duration, totals
  matrix    scenario x example; each cell a symbol AND a colour, the reason in its tooltip
  failures  per failed / xpassed / known-failure case: details (diff, stderr, server view) and
            the reproduce command, in <details>
  examples  per example: the observed figures of each case in a compact table, and for pooled
            examples the connection-count timeline of the pool scenarios
  connect   connect-time figures per driver, when the cases observed them (connect_p50_ms ...)"""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from harness.docs.card import samples_html
from harness.probe import probe_rows
from harness.reporting.badges import example_badge, overall_badge
from harness.reporting.charts import connect_chart, timeline_cases, timeline_chart, waterfall_chart
from harness.reporting.common import (BAD, FAILED, NOT_APPLICABLE, OUTCOMES, PASSED, SKIPPED, XFAILED, XPASSED,
                                      case_anchor, scenario_order)

INDEX = "index.html"

# (symbol, word, css class): the cell shows the symbol (and the word unless it passed).
CELL = {
    PASSED: ("✔", "passed", "passed"),
    FAILED: ("✘", "failed", "failed"),
    XPASSED: ("✘", "XPASS", "xpassed"),
    XFAILED: ("✔", "xfail", "xfailed"),
    SKIPPED: ("−", "skipped", "skipped"),
    NOT_APPLICABLE: ("·", "n/a", "na"),
}
TOTAL_WORDS = {PASSED: "passed", FAILED: "failed", XPASSED: "xpassed", XFAILED: "known failures",
               SKIPPED: "skipped", NOT_APPLICABLE: "n/a"}

CSS = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d8dee4;--panel:#f6f8fa;--accent:#0072B2;
--passed:#00694d;--passed-bg:#e3f4ed;--failed:#a33f00;--failed-bg:#fde6d8;--xpassed:#8f3a6b;--xpassed-bg:#f7e3ef;
--xfailed:#005b8f;--xfailed-bg:#e1eef8;--skipped:#7a5200;--skipped-bg:#fdf1d6;--na:#6e7781;--na-bg:#f3f4f6;
--mono:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","DejaVu Sans",Arial,sans-serif;
color:var(--ink);background:#fff}
main{max-width:1240px;margin:0 auto;padding:0 28px 64px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
code,pre,.mono{font-family:var(--mono);font-size:13px}
h2{font-size:19px;margin:40px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line);letter-spacing:-.01em}
h3{font-size:16px;margin:0}
header.run{padding:28px 0 18px;border-bottom:1px solid var(--line);display:flex;gap:24px;align-items:flex-start;
justify-content:space-between;flex-wrap:wrap}
header.run h1{font-size:26px;margin:0 0 4px;letter-spacing:-.02em}
.facts{color:var(--muted);margin:0;display:flex;flex-wrap:wrap;gap:4px 18px}
.facts b{color:var(--ink);font-weight:600}
.verdict{font-weight:700;font-size:15px;padding:6px 14px;border-radius:999px;white-space:nowrap;display:inline-block}
.verdict.ok{background:var(--passed-bg);color:var(--passed)}.verdict.bad{background:var(--failed-bg);color:var(--failed)}
.totals{display:flex;flex-wrap:wrap;gap:8px;margin:16px 0 0}
.chip{display:inline-flex;align-items:center;gap:6px;border-radius:6px;padding:3px 10px;font-size:14px;font-weight:600;
font-variant-numeric:tabular-nums}
.passed{background:var(--passed-bg);color:var(--passed)}.failed{background:var(--failed-bg);color:var(--failed)}
.xpassed{background:var(--xpassed-bg);color:var(--xpassed)}.xfailed{background:var(--xfailed-bg);color:var(--xfailed)}
.skipped{background:var(--skipped-bg);color:var(--skipped)}.na{background:var(--na-bg);color:var(--na)}
.errors{border:1px solid var(--failed);background:var(--failed-bg);border-radius:8px;padding:12px 16px;margin:20px 0}
.errors pre{white-space:pre-wrap;margin:6px 0 0}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;color:var(--muted);font-size:13px;margin:0 0 10px}
.legend span.chip{font-size:12.5px;padding:1px 8px}
.matrix-wrap{overflow:auto;max-height:82vh;border:1px solid var(--line);border-radius:8px}
table{border-collapse:separate;border-spacing:0}
table.matrix{width:100%;font-size:14px}
.matrix th,.matrix td{border-bottom:1px solid var(--line);padding:0}
.matrix thead th{position:sticky;top:0;z-index:2;background:#fff;border-bottom:2px solid #b8c1cb;padding:10px 10px 8px;
text-align:center;vertical-align:bottom;font-weight:600;white-space:nowrap}
.matrix thead th .driver{display:block;font-weight:400;color:var(--muted);font-size:12px}
.matrix thead th .count{display:block;font-size:12px;font-weight:600;margin-top:2px}
.matrix th.scenario{position:sticky;left:0;z-index:1;background:#fff;text-align:left;width:1%;font-family:var(--mono);
font-size:13px;font-weight:500;padding:0 14px;white-space:nowrap;border-right:1px solid var(--line)}
.matrix thead th.scenario{z-index:3;font-family:inherit;color:var(--muted);font-weight:600}
.matrix tbody tr:hover th.scenario{background:var(--panel)}
.matrix td.cell{text-align:center;height:38px;min-width:96px;border-left:3px solid #fff;font-weight:600;white-space:nowrap}
.matrix td.cell a,.matrix td.cell span.in{display:flex;align-items:center;justify-content:center;gap:6px;height:100%;
padding:0 8px;color:inherit}
.matrix td.cell .sym{font-size:16px;line-height:1}
.matrix td.cell .word{font-size:12.5px}
.matrix td.cell.na{font-weight:400}
.matrix tfoot td,.matrix tfoot th{padding:8px 10px;text-align:center;font-size:13px;color:var(--muted);border-bottom:0}
details.case{border:1px solid var(--line);border-left:5px solid var(--failed);border-radius:8px;margin:10px 0;background:#fff}
details.case.xpassed{border-left-color:#CC79A7}details.case.xfailed{border-left-color:var(--accent)}
details.case>summary{cursor:pointer;padding:10px 14px;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap;list-style:none}
details.case>summary::-webkit-details-marker{display:none}
details.case>summary::before{content:"▸";color:var(--muted);transition:transform .15s}
details.case[open]>summary::before{transform:rotate(90deg)}
details.case>summary .id{font-family:var(--mono);font-weight:600;font-size:14px}
details.case>summary .msg{color:var(--muted);flex:1 1 300px}
.case-body{padding:0 16px 14px}
.label{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:12px 0 4px;font-weight:600}
pre.block{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;
margin:0;max-height:480px;line-height:1.45;white-space:pre}
pre.repro{background:#1f2328;color:#f6f8fa;border-radius:6px;padding:8px 12px;margin:0;overflow:auto}
pre .add{background:#dcefff;color:#003f66;display:block}pre .del{background:#ffe7d1;color:#7a2e00;display:block}
pre .hunk{color:var(--muted);display:block}
details.output{margin-top:8px}details.output>summary{cursor:pointer;color:var(--muted);font-size:13px}
section.example{border:1px solid var(--line);border-radius:10px;padding:16px 18px;margin:16px 0}
section.example>header{display:flex;align-items:center;gap:12px;flex-wrap:wrap;margin-bottom:10px}
section.example>header .meta{color:var(--muted);font-size:13.5px}
section.example img.badge{height:20px}
table.observed{width:100%;font-size:13.5px}
.observed th{text-align:left;color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.05em;
padding:6px 10px;border-bottom:1px solid var(--line)}
.observed td{padding:6px 10px;border-bottom:1px solid #eef1f4;vertical-align:top}
.observed td.name{font-family:var(--mono);font-size:13px;white-space:nowrap}
.observed td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;color:var(--muted)}
.observed td.res{white-space:nowrap}
.observed td.res .chip{font-size:12px;padding:1px 7px}
.kv{display:inline-block;margin:1px 12px 1px 0;white-space:nowrap}
.kv .k{font-family:var(--mono);font-size:12px;color:var(--muted)}.kv .v{font-weight:600;font-variant-numeric:tabular-nums}
.na-note{color:var(--muted);font-size:13px;margin:8px 0 0}
figure{margin:14px 0 0}figure img{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:13px;margin-top:4px}
table.connect td,table.connect th{padding:5px 12px;border-bottom:1px solid var(--line);text-align:right;font-variant-numeric:tabular-nums}
table.connect td:first-child,table.connect th:first-child{text-align:left;font-family:var(--mono);font-size:13px}
.lifecycle{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:8px 24px}
p.claim{color:var(--muted);font-size:14px;max-width:70em}
footer{color:var(--muted);font-size:13px;margin-top:48px;border-top:1px solid var(--line);padding-top:12px}
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _chip(outcome: str, text: str) -> str:
    symbol, _, css = CELL.get(outcome, ("?", outcome, "na"))
    return f'<span class="chip {css}">{symbol} {_e(text)}</span>'


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


def _details_pre(text: str) -> str:
    """The rendered failure with diff lines marked (+ actual, - expected)."""
    lines = []  # a marked line is a block span holding its own line feed, so it adds no blank line
    for line in text.splitlines():
        css = ""
        if line.startswith(("+++", "---")) or line.startswith("@@"):
            css = "hunk"
        elif line.startswith("+"):
            css = "add"
        elif line.startswith("-"):
            css = "del"
        lines.append(f'<span class="{css}">{_e(line)}\n</span>' if css else _e(line) + "\n")
    return '<pre class="block">' + "".join(lines).rstrip("\n") + "</pre>"


def _header(run: dict[str, Any], generated: datetime) -> str:
    counts: Counter[str] = Counter(s.get("outcome", "") for e in run.get("examples", []) for s in e.get("scenarios", []))
    examples = run.get("examples", [])
    overall = overall_badge(run)
    ok = overall.color != "red"
    facts = [("PostgreSQL", run.get("postgres") or "?"), ("backend", run.get("backend") or "?"),
             ("date", generated.strftime("%Y-%m-%d %H:%M %Z").strip()), ("duration", f"{float(run.get('seconds') or 0):.1f} s"),
             ("examples", len(examples)), ("cases", sum(counts.values()))]
    chips = "".join(_chip(o, f"{counts[o]} {TOTAL_WORDS[o]}") for o in OUTCOMES if counts[o])
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


def _cell(example: dict[str, Any], case: dict[str, Any] | None) -> str:
    if case is None:
        return '<td class="cell na" title="not part of this run"><span class="in"></span></td>'
    outcome = case.get("outcome", "")
    symbol, word, css = CELL.get(outcome, ("?", outcome, "na"))
    tip = [f"{example['id']} :: {case['name']}", word]
    if case.get("message"):
        tip.append(case["message"])
    if outcome not in (NOT_APPLICABLE, SKIPPED):
        tip.append(f"{float(case.get('seconds') or 0):.2f} s")
    inner = f'<span class="sym" aria-hidden="true">{symbol}</span>'
    if outcome != PASSED:
        inner += f'<span class="word">{_e(word)}</span>'
    title = _e("\n".join(tip))
    if case.get("details") or outcome in BAD or outcome == XFAILED:
        body = f'<a href="#{case_anchor(example["id"], case["name"])}">{inner}</a>'
    else:
        target = _example_anchor(example["id"])
        body = f'<a href="#{target}">{inner}</a>' if case.get("observed") else f'<span class="in">{inner}</span>'
    return f'<td class="cell {css}" data-outcome="{_e(outcome)}" title="{title}">{body}</td>'


def _example_anchor(example_id: str) -> str:
    return "example-" + example_id.replace("/", "-")


def _matrix(run: dict[str, Any]) -> str:
    examples = run.get("examples", [])
    names = scenario_order(run)
    legend = "".join(f'<span>{_chip(o, CELL[o][1])} {_e(text)}</span>' for o, text in (
        (PASSED, ""), (FAILED, ""), (XFAILED, "failed as known"), (XPASSED, "known failure passed"),
        (SKIPPED, "not declared"), (NOT_APPLICABLE, "does not apply (hover for why)")))
    head = '<th class="scenario" scope="col">scenario</th>'
    foot = '<th class="scenario">passing</th>'
    for example in examples:
        badge = example_badge(example)
        css = {"brightgreen": "passed", "red": "failed", "yellow": "skipped"}.get(badge.color, "na")
        head += (f'<th scope="col"><a href="#{_example_anchor(example["id"])}">{_e(example["id"])}</a>'
                 f'<span class="driver">{_e(example.get("driver", ""))}</span></th>')
        foot += f'<td><span class="chip {css}">{_e(badge.message)}</span></td>'
    rows = []
    for name in names:
        cells = "".join(_cell(e, next((s for s in e.get("scenarios", []) if s["name"] == name), None)) for e in examples)
        rows.append(f'<tr><th class="scenario" scope="row">{_e(name)}</th>{cells}</tr>')
    return (
        '<h2 id="matrix-title">Matrix</h2>'
        f'<div class="legend">{legend}</div>'
        f'<div class="matrix-wrap"><table class="matrix" id="matrix" data-examples="{len(examples)}" '
        f'data-scenarios="{len(names)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        f"<tfoot><tr>{foot}</tr></tfoot></table></div>"
    )


def _failures(run: dict[str, Any]) -> str:
    blocks = []
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            outcome = case.get("outcome", "")
            if outcome not in BAD and outcome != XFAILED:
                continue
            symbol, word, css = CELL[outcome]
            parts = []
            if case.get("reproduce"):
                parts.append(f'<div class="label">reproduce</div><pre class="repro">{_e(case["reproduce"])}</pre>')
            if case.get("details"):
                parts.append('<div class="label">details: diff (- expected, + actual), stderr, server view</div>'
                             + _details_pre(case["details"]))
            elif case.get("message"):
                parts.append(f'<div class="label">message</div>{_details_pre(case["message"])}')
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
        if key == "timeline":
            figures.append(f'<span class="kv"><span class="k">timeline</span> <span class="v">'
                           f'{len(value) if isinstance(value, list) else 0} samples</span></span>')
            continue
        shown, full = _value(value)
        figures.append(f'<span class="kv" title="{_e(key)} = {_e(full)}"><span class="k">{_e(key)}</span> '
                       f'<span class="v">{_e(shown)}</span></span>')
    outcome = case.get("outcome", "")
    word = CELL.get(outcome, ("", outcome, ""))[1]
    return (f'<tr><td class="name">{_e(case["name"])}</td><td class="res">{_chip(outcome, word)}</td>'
            f'<td class="num">{float(case.get("seconds") or 0):.2f} s</td><td>{"".join(figures) or "—"}</td></tr>')


def _example_section(example: dict[str, Any]) -> str:
    badge = example_badge(example)
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
    for reason, names in not_applicable.items():
        body += f'<p class="na-note">· n/a ({len(names)}): {_e(", ".join(names))}: {_e(reason)}</p>'
    chart = timeline_chart(example)
    if chart:
        shown = ", ".join(c["name"] for c in timeline_cases(example))
        body += (f'<figure><img class="timeline" src="{chart}" alt="connection count over time during {_e(shown)}">'
                 "<figcaption>Server backends of the case's database over time, sampled from "
                 "pg_stat_activity during each pool scenario; dashed: the peak.</figcaption></figure>")
    return (f'<section class="example" id="{_example_anchor(example["id"])}"><header><h3>{_e(example["id"])}</h3>'
            f'<img class="badge" src="{_svg_uri(badge.svg())}" alt="{_e(badge.label)}: {_e(badge.message)}">'
            f'<span class="meta">{_e(" · ".join(m for m in meta if m))}</span></header>{body}</section>')


def _ms(figures: dict[str, Any], key: str) -> str:
    value = figures.get(key)
    return f"{value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def _cell_ms(figures: dict[str, Any], key: str) -> str:
    return f"<td>{_ms(figures, key)}</td>"


def _lifecycle(run: dict[str, Any]) -> str:
    """The connection lifecycle: the probe's step waterfall beside each driver's connect times and
    the page's claim, then the figures as a table."""
    lifecycle = run.get("lifecycle") or {}
    probe, drivers = lifecycle.get("probe"), lifecycle.get("drivers") or {}
    if not probe and not drivers:
        return ""
    claim = (probe or {}).get("page_claim_ms") or {"local": [20, 50], "remote_ssl": [100, 300]}
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
    chart = connect_chart(drivers, probe)
    if chart:
        parts.append(f'<figure><img class="connect" src="{chart}" alt="new connection time per driver">'
                     '<figcaption>Each driver\'s own connect call (connect_latency and connect_latency_tls), '
                     'beside the probe.</figcaption></figure>')
    parts.append("</div>")
    head = ("<tr><th>driver</th><th>connect p50 ms</th><th>connect p95 ms</th><th>TLS p50 ms</th><th>TLS p95 ms</th>"
            "<th>query p50 ms</th><th>server auth p50 ms<br>(plain / TLS)</th></tr>")
    rows = []
    for label, plain, tls, pooled in (
            [(row.label, row.figures["plain"], row.figures["tls"], False) for row in probe_rows(probe)]
            + [(example_id, modes.get("plain", {}), modes.get("tls", {}), bool(modes.get("plain", {}).get("pooled")))
               for example_id, modes in sorted(drivers.items())]):
        auth = " / ".join(f"{m['server_auth_p50_ms']:.0f}" if "server_auth_p50_ms" in m else "—" for m in (plain, tls))
        query = _ms(plain, "query_p50_ms") + (" (through the pool)" if pooled else "")
        rows.append(f"<tr><td>{_e(label)}</td>{_cell_ms(plain, 'connect_p50_ms')}{_cell_ms(plain, 'connect_p95_ms')}"
                    f"{_cell_ms(tls, 'connect_p50_ms')}{_cell_ms(tls, 'connect_p95_ms')}<td>{query}</td><td>{auth}</td></tr>")
    parts.append(f'<table class="connect">{head}{"".join(rows)}</table>')
    return "".join(parts)


def render_html(run: dict[str, Any], generated: datetime) -> str:
    examples = "".join(_example_section(e) for e in run.get("examples", []))
    title = f"PostgreSQL client conformance · {overall_badge(run).message}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">"
        '<link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        + _header(run, generated) + _errors(run) + _matrix(run) + _failures(run)
        + (f'<h2 id="examples">Observed, per example</h2>{examples}' if examples else "")
        + _lifecycle(run)
        + '<footer>Generated by pg-sample-harness from results.json. Machine-readable: '
        '<a href="results.json">results.json</a>, <a href="junit/all.xml">junit/all.xml</a>, '
        '<a href="badges/overall.json">badges/</a>.</footer>'
        "</main></body></html>\n"
    )


def write_html(run: dict[str, Any], reports_dir: Path, generated: datetime) -> Path:
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / INDEX
    path.write_text(render_html(run, generated), encoding="utf-8")
    return path
