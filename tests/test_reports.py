"""The reports a person reads (harness/reporting): JUnit XML, badges and index.html, built from a
small synthetic run that holds every kind of verdict, then read back as CI services and a
browser read them.

The browser test drives Debian's chromium (apt-get install -y chromium) with playwright; it
fails when chromium is missing unless HARNESS_SKIP_BROWSER_TESTS=1."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from junitparser import Failure as JFailure
from junitparser import JUnitXml, Skipped
from lxml import etree

from harness.outcome import ExampleResult, Failure, Outcome, RunResult, ScenarioResult
from harness.config import build_config
from harness.docs import samples_of
from harness.reporting import write_reports
from harness.reporting.__main__ import main as reporting_main
from harness.reporting.__main__ import markdown, merge
from tests.support import REPO

EXAMPLES = REPO / "examples"

DATA = Path(__file__).resolve().parent / "data"
XSD = DATA / "junit-jenkins.xsd"
CHROMIUM = os.environ.get("HARNESS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

DIFF = "--- expected\n+++ actual\n@@ -1 +1 @@\n-{\"id\": 1, \"name\": \"ada\"}\n+{\"id\": 1, \"name\": \"Ada\"}"
STARTED = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
TIMELINE = [[0.008, 0], [0.67, 1], [0.83, 2], [0.885, 3], [0.938, 4], [1.2, 4], [1.776, 0]]


def synthetic_run() -> dict[str, Any]:
    """Two examples: one passed, one failed with a diff, one n/a, one known failure, one not
    declared, a pool scenario with a timeline, an xpassed case, connect-time figures."""
    pool = ExampleResult("node/pg-pool", "node", "pg 8.23.1", build_seconds=3.2, samples=samples_of(EXAMPLES / "node" / "pg-pool"))
    pool.scenarios = [
        ScenarioResult("connect_now", Outcome.PASSED, 0.41,
                       observed={"now": "2026-01-01T00:00:00+00:00", "connections_opened": 1},
                       stdout='{"type":"result","scenario":"connect_now"}\n', stderr="note: \x1b[33mwarm-up\x1b[0m\n"),
        ScenarioResult("param_query", Outcome.FAILED, 0.52, message="the rows differ from the fixture",
                       failure=Failure(summary="the rows differ from the fixture", problems=["1 row of 1 differs"],
                                       diff=DIFF, stderr_tail="Error: boom\n    at main.js:12",
                                       server_view="LOG:  statement: SELECT id, name FROM users WHERE id = $1",
                                       reproduce="python -m harness run --example node/pg-pool --scenario param_query"),
                       observed={"binding": "server", "connections_opened": 1},
                       stdout='{"type":"result","scenario":"param_query","data":[]}\n', stderr="Error: boom\n"),
        ScenarioResult("types", Outcome.SKIPPED,
                       message="not declared in examples/node/pg-pool/example.yaml: add it under scenarios.applies"),
        ScenarioResult("pool_bounded", Outcome.PASSED, 1.96,
                       observed={"peak_open": 4, "connections_opened": 4, "timeline": TIMELINE, "elapsed_ms": 984}),
        ScenarioResult("pool_reuse", Outcome.XFAILED, 1.1,
                       message="known failure: reuses 2 backends https://example.invalid/1 | 2 distinct pids",
                       failure=Failure(summary="2 distinct pids", reproduce="python -m harness run --example node/pg-pool"),
                       observed={"distinct_pids": 2, "timeline": [[0.0, 0], [0.5, 2], [0.9, 0]]}),
        ScenarioResult("pool_idle_timeout", Outcome.NOT_APPLICABLE, message="pg Pool closes idle clients itself"),
        ScenarioResult("connect_latency", Outcome.PASSED, 0.9,
                       observed={"connect_p50_ms": 7.8, "connect_p95_ms": 11.3, "query_p50_ms": 0.21, "pooled": True,
                                 "tls": False}),
        ScenarioResult("connect_latency_tls", Outcome.PASSED, 1.1,
                       observed={"connect_p50_ms": 12.4, "connect_p95_ms": 19.0, "query_p50_ms": 0.25, "pooled": True,
                                 "tls": True}),
    ]
    pool.settle()
    client = ExampleResult("python/psycopg2", "python", "psycopg2-binary 2.9.13", build_seconds=0.1, build_cached=True,
                           samples=samples_of(EXAMPLES / "python" / "psycopg2"))
    client.scenarios = [
        ScenarioResult("connect_now", Outcome.PASSED, 0.3, observed={"connections_opened": 1, "connect_p50_ms": 0.9}),
        ScenarioResult("param_query", Outcome.XPASSED, 0.3,
                       message="listed as a known failure (binds client-side) but it passed: remove it"),
        ScenarioResult("types", Outcome.PASSED, 0.2, observed={"connections_opened": 1}),
        ScenarioResult("pool_bounded", Outcome.NOT_APPLICABLE, message="the psycopg2 sample has no pool"),
        ScenarioResult("pool_reuse", Outcome.NOT_APPLICABLE, message="the psycopg2 sample has no pool"),
        ScenarioResult("pool_idle_timeout", Outcome.NOT_APPLICABLE, message="the psycopg2 sample has no pool"),
    ]
    client.settle()
    run = RunResult(backend="native", postgres="15.18", examples=[pool, client], lifecycle_probe=PROBE,
                    started=STARTED, finished=STARTED + timedelta(seconds=7.5))
    return run.to_json()


def _steps(**p50: float) -> dict[str, dict[str, float]]:
    return {step: {"p50": value, "p95": value * 2, "min": value / 2, "max": value * 3} for step, value in p50.items()}


PROBE = {"host": "localhost", "port": 5432, "samples": 30, "page_claim_ms": {"local": [20, 50], "remote_ssl": [100, 300]},
         "plain": {"steps": _steps(resolve=0.05, tcp=0.08, auth=5.6, ready=0.03, query=0.3),
                   "total": {"p50": 6.1, "p95": 8.4}, "connect": {"p50": 5.9, "p95": 8.1},
                   "auth_mechanism": "SCRAM-SHA-256", "tls_version": None},
         "tls": {"steps": _steps(resolve=0.05, tcp=0.08, tls=4.1, auth=5.7, ready=0.03, query=0.3),
                 "total": {"p50": 10.3, "p95": 14.0}, "connect": {"p50": 10.0, "p95": 13.9},
                 "auth_mechanism": "SCRAM-SHA-256", "tls_version": "TLSv1.3"}}


def passing_run() -> dict[str, Any]:
    example = ExampleResult("java/hikaricp", "java", "HikariCP 7.0.2", samples=samples_of(EXAMPLES / "java" / "hikaricp"))
    example.scenarios = [ScenarioResult(n, Outcome.PASSED, 0.1) for n in ("connect_now", "select_rows")]
    example.scenarios.append(ScenarioResult("pool_reuse", Outcome.XFAILED, 0.1, message="known failure: x"))
    example.scenarios.append(ScenarioResult("types", Outcome.NOT_APPLICABLE, message="no"))
    example.settle()
    return RunResult("native", "15.18", [example]).to_json()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    run = synthetic_run()
    (out / "results.json").write_text(json.dumps(run, indent=2), encoding="utf-8")
    written = write_reports(run, out)
    assert all(p.is_file() for p in written)
    expected = {"junit/node-pg-pool.xml", "junit/python-psycopg2.xml", "junit/all.xml",
                "badges/node-pg-pool.svg", "badges/node-pg-pool.json", "badges/python-psycopg2.svg",
                "badges/python-psycopg2.json", "badges/overall.svg", "badges/overall.json", "index.html", "simulator.html",
                # the page's blocks of these two examples (harness.docs.samples)
                "samples.json", "badges/sample-node_pg_pool.svg", "badges/sample-node_pg_pool.json",
                "badges/sample-python_psycopg2.svg", "badges/sample-python_psycopg2.json"}
    assert {p.relative_to(out).as_posix() for p in written} == expected
    return out


# -- JUnit ---------------------------------------------------------------------------------------

def test_junit_files_are_valid_against_the_jenkins_schema(reports: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    files = sorted((reports / "junit").glob("*.xml"))
    assert [f.name for f in files] == ["all.xml", "node-pg-pool.xml", "python-psycopg2.xml"]
    for path in files:
        document = etree.parse(str(path))
        assert schema.validate(document), f"{path.name}: {schema.error_log}"


def test_junit_one_suite_per_example_one_case_per_scenario(reports: Path) -> None:
    xml = JUnitXml.fromfile(str(reports / "junit" / "node-pg-pool.xml"))
    suites = list(xml)
    assert [s.name for s in suites] == ["node/pg-pool"]
    suite = suites[0]
    cases = {case.name: case for case in suite}
    assert list(cases) == ["connect_now", "param_query", "types", "pool_bounded", "pool_reuse", "pool_idle_timeout",
                           "connect_latency", "connect_latency_tls"]
    assert {case.classname for case in suite} == {"node/pg-pool"}
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (8, 1, 0, 3)
    properties = {p.name: p.value for p in suite.properties()}
    assert properties["driver"] == "pg 8.23.1" and properties["postgres"] == "15.18"

    assert cases["connect_now"].is_passed
    assert cases["connect_now"].time == pytest.approx(0.41)
    assert cases["connect_now"].system_out == '{"type":"result","scenario":"connect_now"}\n'
    assert cases["connect_now"].system_err == "note: \\x1b[33mwarm-up\\x1b[0m\n"  # escapes XML cannot hold

    failure = cases["param_query"].result[0]
    assert isinstance(failure, JFailure)
    assert failure.message == "the rows differ from the fixture" and failure.type == "failed"
    assert '+{"id": 1, "name": "Ada"}' in failure.text and "reproduce: python -m harness run" in failure.text
    assert "what the server saw" in failure.text and "Error: boom" in failure.text
    assert cases["param_query"].system_err == "Error: boom\n"

    not_declared = cases["types"].result[0]
    assert isinstance(not_declared, Skipped) and not_declared.message.startswith("not declared in")
    known = cases["pool_reuse"].result[0]
    assert isinstance(known, Skipped) and known.message.startswith("known failure: reuses 2 backends")
    assert "2 distinct pids" in (known.text or "")
    na = cases["pool_idle_timeout"].result[0]
    assert isinstance(na, Skipped) and na.message == "pg Pool closes idle clients itself" and na.type == "not_applicable"


def test_junit_xpassed_is_a_failure_and_all_xml_merges(reports: Path) -> None:
    xml = JUnitXml.fromfile(str(reports / "junit" / "python-psycopg2.xml"))
    cases = {case.name: case for suite in xml for case in suite}
    xpassed = cases["param_query"].result[0]
    assert isinstance(xpassed, JFailure) and xpassed.type == "xpassed"
    assert xpassed.message.startswith("listed as a known failure")

    merged = JUnitXml.fromfile(str(reports / "junit" / "all.xml"))
    assert [s.name for s in merged] == ["node/pg-pool", "python/psycopg2"]
    merged.update_statistics()
    assert (merged.tests, merged.failures, merged.skipped) == (14, 2, 6)


def test_junit_run_errors_become_a_harness_suite(tmp_path: Path) -> None:
    run = passing_run()
    run["errors"] = ["examples/x/y/example.yaml: 'driver' is a required property\n  fix: add driver"]
    write_reports(run, tmp_path)
    merged = JUnitXml.fromfile(str(tmp_path / "junit" / "all.xml"))
    assert [s.name for s in merged] == ["java/hikaricp", "harness"]
    error = next(iter(list(merged)[1])).result[0]
    assert error.type == "run_error" and "fix: add driver" in error.text
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(etree.parse(str(tmp_path / "junit" / "all.xml"))), schema.error_log


def test_stale_reports_of_examples_not_in_the_run_are_removed(tmp_path: Path) -> None:
    write_reports(synthetic_run(), tmp_path)
    write_reports(passing_run(), tmp_path)
    assert sorted(p.name for p in (tmp_path / "junit").iterdir()) == ["all.xml", "java-hikaricp.xml"]
    assert sorted(p.name for p in (tmp_path / "badges").iterdir()) == [
        "java-hikaricp.json", "java-hikaricp.svg", "overall.json", "overall.svg",
        "sample-java_hikaricp.json", "sample-java_hikaricp.svg"]


# -- badges --------------------------------------------------------------------------------------

def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_badges_endpoint_json_and_svg(reports: Path, tmp_path: Path) -> None:
    badges = reports / "badges"
    # node/pg-pool: 5 applicable (n/a excluded), 1 failed -> "1 failing"
    assert read_json(badges / "node-pg-pool.json") == {
        "schemaVersion": 1, "label": "node/pg-pool", "message": "1 failing", "color": "red"}
    assert read_json(badges / "python-psycopg2.json")["message"] == "1 failing"  # the xpassed case
    assert read_json(badges / "overall.json") == {
        "schemaVersion": 1, "label": "conformance", "message": "2 failing", "color": "red"}
    svg = etree.parse(str(badges / "node-pg-pool.svg")).getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    text = (badges / "node-pg-pool.svg").read_text(encoding="utf-8")
    assert "node/pg-pool" in text and "1 failing" in text and "#e05d44" in text

    write_reports(passing_run(), tmp_path)
    # 3 applicable: 2 passed + 1 known failure, all passing
    assert read_json(tmp_path / "badges" / "java-hikaricp.json") == {
        "schemaVersion": 1, "label": "java/hikaricp", "message": "3/3 passing", "color": "brightgreen"}
    assert read_json(tmp_path / "badges" / "overall.json")["message"] == "3/3 passing"
    assert "3/3 passing" in (tmp_path / "badges" / "java-hikaricp.svg").read_text(encoding="utf-8")


# -- index.html (static checks; the browser test below renders it) --------------------------------

def test_index_html_is_self_contained(reports: Path) -> None:
    html = (reports / "index.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in html  # the browser refuses any fetch the page would make
    for fetching in ("<script", "<iframe", "<object", "<embed", "@import", "url(", "srcset="):
        assert fetching not in html, fetching
    sources = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    # images and icons are data: URIs; links are anchors or relative (the files beside index.html)
    remote = [s[:60] for s in sources if not s.startswith("data:") and (":" in s or s.startswith("//"))]
    assert sources and not remote
    assert all(s.startswith("data:") for s in re.findall(r'\bsrc="([^"]*)"', html))
    assert "PostgreSQL <b>15.18</b>" in html and "backend <b>native</b>" in html
    assert 'id="case-node-pg-pool--param_query"' in html
    assert "python -m harness run --example node/pg-pool --scenario param_query" in html
    assert '<span class="add">+{&quot;id&quot;: 1, &quot;name&quot;: &quot;Ada&quot;}\n</span>' in html
    assert 'title="python/psycopg2 :: pool_bounded\nn/a\nthe psycopg2 sample has no pool"' in html
    assert html.count('class="timeline"') == 1  # only node/pg-pool has pool timelines
    # n/a reasons as text under the matrix (a phone has no hover), each cell pointing at its note
    notes = re.search(r'<ol class="na-notes" id="na-notes">(.*?)</ol>', html)
    assert notes and "<li>n/a: the psycopg2 sample has no pool</li>" in notes.group(1)
    reasons = re.findall(r"<li>n/a: (.*?)</li>", notes.group(1))
    assert len(reasons) == len(set(reasons))   # each reason once, however many cells it explains
    assert f'n/a<sup class="note">{reasons.index("the psycopg2 sample has no pool") + 1}</sup>' in html
    assert '<td class="name">param_query · direct</td>' in html   # observed rows name their topology
    # the lifecycle: the probe's waterfall and each driver's connect times beside the page's claim
    assert 'id="lifecycle"' in html and 'class="waterfall"' in html and 'class="connect"' in html
    assert "takes 20-50ms (local)" in html and "<td>harness probe</td><td>5.90</td>" in html
    assert "<td>node/pg-pool</td><td>7.80</td><td>11.30</td><td>12.40</td><td>19.00</td><td>0.21 (through the pool)</td>" in html


def test_markdown_summary_and_merge() -> None:
    merged = merge([synthetic_run(), passing_run()])
    assert [e["id"] for e in merged["examples"]] == ["java/hikaricp", "node/pg-pool", "python/psycopg2"]
    text = markdown(merged)
    assert "| `param_query` |" in text and "✘ failed" in text and "4 failing" not in text
    assert "conformance: 2 failing" in text


def test_the_header_shows_the_runs_real_duration_and_date(reports: Path) -> None:
    html = (reports / "index.html").read_text(encoding="utf-8")
    assert "date <b>2026-03-01 12:00 UTC</b>" in html
    assert "duration <b>7.5 s</b>" in html


def test_the_pages_merge_keeps_the_lifecycle_section_and_the_run_times(tmp_path: Path) -> None:
    """ci/gh-pages.sh merges one results.json per CI job into the published site."""
    first, second = synthetic_run(), passing_run()
    second["started"], second["finished"] = "2026-03-01T12:30:00+00:00", "2026-03-01T12:31:00+00:00"
    files = []
    for number, run in enumerate((first, second)):
        path = tmp_path / f"job{number}" / "results.json"
        path.parent.mkdir()
        path.write_text(json.dumps(run), encoding="utf-8")
        files.append(str(path))
    assert reporting_main(["merge", *files, "--out", str(tmp_path / "site")]) == 0
    merged = json.loads((tmp_path / "site" / "results.json").read_text(encoding="utf-8"))
    assert merged["lifecycle"]["probe"] == PROBE
    assert merged["lifecycle"]["drivers"]["node/pg-pool"]["tls"]["connect_p50_ms"] == 12.4
    assert (merged["started"], merged["finished"]) == (first["started"], second["finished"])
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'id="lifecycle"' in html and "<td>harness probe</td><td>5.90</td>" in html
    assert "date <b>2026-03-01 12:31 UTC</b>" in html


# -- the page in a real browser ------------------------------------------------------------------

def browser_or_fail() -> Any:
    if os.environ.get("HARNESS_SKIP_BROWSER_TESTS") == "1":
        pytest.skip("HARNESS_SKIP_BROWSER_TESTS=1")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(f"chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
                    "(or set HARNESS_SKIP_BROWSER_TESTS=1 to skip the browser tests)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: .venv/bin/pip install -e '.[dev]' "
                    "(it drives the system chromium; no `playwright install` needed)", pytrace=False)
    return sync_playwright


def render(index: Path, screenshot: Path) -> dict[str, Any]:
    """Load index.html in headless chromium; what the page shows, and what went wrong loading it."""
    sync_playwright = browser_or_fail()
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problems.append(f"fetch: {r.url}"))
            page.goto(index.as_uri(), wait_until="load")
            shown = page.evaluate("""() => {
                const table = document.querySelector('table#matrix');
                const images = [...document.querySelectorAll('img.timeline')];
                return {
                  matrix: !!table,
                  examples: table ? +table.dataset.examples : 0,
                  scenarios: table ? +table.dataset.scenarios : 0,
                  header: table ? table.querySelectorAll('thead th').length : 0,
                  rows: table ? table.querySelectorAll('tbody tr').length : 0,
                  cells: table ? [...table.querySelectorAll('tbody tr')].map(r => r.querySelectorAll('td.cell').length) : [],
                  outcomes: table ? [...table.querySelectorAll('td.cell')].map(c => c.dataset.outcome || '') : [],
                  timelines: images.length,
                  timelinesDrawn: images.filter(i => i.complete && i.naturalWidth > 0).length,
                  stickyHeader: table ? getComputedStyle(table.querySelector('thead th')).position : '',
                  failures: document.querySelectorAll('details.case').length,
                  verdict: (document.querySelector('#verdict') || {}).textContent || '',
                };
            }""")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    shown["problems"] = problems
    return shown


def test_index_html_in_headless_chromium(reports: Path) -> None:
    shown = render(reports / "index.html", reports / "screenshot.png")
    assert shown["problems"] == []
    assert shown["matrix"]
    # rows: the union of the scenarios; columns: one per example
    assert (shown["examples"], shown["scenarios"]) == (2, 8)
    assert shown["header"] == 1 + 2
    assert shown["rows"] == 8 and shown["cells"] == [2] * 8
    assert sorted(shown["outcomes"]) == sorted(
        ["passed", "failed", "skipped", "passed", "xfailed", "not_applicable", "passed", "passed",
         "passed", "xpassed", "passed", "not_applicable", "not_applicable", "not_applicable", "", ""])
    assert shown["timelines"] >= 1 and shown["timelinesDrawn"] == shown["timelines"]
    assert shown["stickyHeader"] == "sticky"
    assert shown["failures"] == 3  # failed, xpassed, and the known failure
    assert "FAILED" in shown["verdict"]
    assert (reports / "screenshot.png").stat().st_size > 10_000


def test_real_run_report_in_headless_chromium(tmp_path: Path) -> None:
    """The page of a real run (the C++ example: seconds), checked in the browser; the screenshot
    goes to reports/screenshot.png for people to look at."""
    out = tmp_path / "reports" / "results.json"
    env = dict(os.environ, HARNESS_CACHE=str(build_config().paths.cache))
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "--example", "cpp/libpqxx", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    index = out.parent / "index.html"
    screenshot = build_config().paths.reports / "screenshot.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    shown = render(index, screenshot)
    assert shown["problems"] == []
    assert shown["matrix"] and shown["rows"] == shown["scenarios"]
    assert shown["cells"] == [shown["examples"]] * shown["rows"]


# Each chart image (not a badge): its alt text, its caption, and whether the page shows it drawn.
CHARTS_JS = """() => [...document.querySelectorAll('figure img')].map(i => ({
  alt: i.getAttribute('alt') || '',
  caption: (i.closest('figure').querySelector('figcaption') || {}).innerText || '',
  drawn: i.complete && i.naturalWidth > 0}))"""


def inspect_page(index: Path, viewports: tuple[int, ...]) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """document.documentElement.scrollWidth of index.html at each viewport width, and its charts."""
    sync_playwright = browser_or_fail()
    widths: dict[int, int] = {}
    charts: list[dict[str, Any]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width in viewports:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(index.as_uri(), wait_until="load")
                widths[width] = page.evaluate("document.documentElement.scrollWidth")
                charts = page.evaluate(CHARTS_JS)
                page.close()
        finally:
            browser.close()
    return widths, charts


@pytest.fixture(scope="module")
def merged_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a full run's direct and pooled jobs merged (tests/data, trimmed): every chart kind."""
    out = tmp_path_factory.mktemp("merged")
    runs = [json.loads((DATA / f"full-run-{job}.json").read_text(encoding="utf-8")) for job in ("direct", "pooled")]
    write_reports(merge(runs), out)
    return out


def test_the_page_never_scrolls_sideways_on_a_phone_or_a_desktop(reports: Path, merged_reports: Path) -> None:
    """Wide tables scroll in their own box; the page is as wide as the screen (a phone: 390 px);
    each chart is drawn and titled (alt text and caption), the story's with its topologies."""
    for report in (reports, merged_reports):
        widths, charts = inspect_page(report / "index.html", (390, 1400))
        assert widths == {390: 390, 1400: 1400}, report
        untitled = [c for c in charts if not (c["alt"].strip() and c["caption"].strip() and c["drawn"])]
        assert charts and untitled == [], (report, untitled)
    alts = " ".join(c["alt"] for c in charts)   # the merged report's
    assert len(charts) >= 6   # timelines, the story, the pool sizes, waterfall, connect times
    assert "Run 1 beside Run 2, for node/pg-pool: story_pool_exhaustion · direct · pgbouncer-transaction" in alts
