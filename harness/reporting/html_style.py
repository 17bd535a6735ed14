"""The stylesheet of index.html (inline: the page fetches nothing). Colours: Okabe-Ito, with
every outcome also shown as a symbol and a word."""

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
details.case>summary .id{font-family:var(--mono);font-weight:600;font-size:14px;overflow-wrap:anywhere}
details.case>summary .msg{color:var(--muted);flex:1 1 min(300px,100%);min-width:0;overflow-wrap:anywhere}
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
.matrix sup.note{font-size:10px;margin-left:1px}
ol.na-notes{color:var(--muted);font-size:13px;margin:8px 0 0;padding-left:22px;overflow-wrap:anywhere}
.topology{color:var(--muted);font-weight:normal}
.na-note{color:var(--muted);font-size:13px;margin:8px 0 0;overflow-wrap:anywhere}
figure{margin:14px 0 0}figure img{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:13px;margin-top:4px}
table.connect td,table.connect th{padding:5px 12px;border-bottom:1px solid var(--line);text-align:right;font-variant-numeric:tabular-nums}
table.connect td:first-child,table.connect th:first-child{text-align:left;font-family:var(--mono);font-size:13px}
.lifecycle{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(420px,100%),1fr));gap:8px 24px}
p.claim{color:var(--muted);font-size:14px;max-width:70em}
/* a table wider than the screen scrolls in its own box, never the page (a phone is 390 px wide) */
table.observed,table.connect,table.pgbouncer{display:block;max-width:100%;overflow-x:auto}
@media (max-width:600px){main{padding:0 12px 48px}section.example{padding:12px 10px}}
footer{color:var(--muted);font-size:13px;margin-top:48px;border-top:1px solid var(--line);padding-top:12px}
"""
