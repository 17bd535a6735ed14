"""The Connection Simulator (reports/simulator.html): the replay record a pool case keeps
(harness.activity_record) and the page in headless chromium, stepped frame by frame, every number
it shows held against the run's results.json, with no network request."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from harness.activity_record import activity_record
from harness.observe import ActivitySample, ActivityTimeline
from harness.reporting.simulator import render_simulator, write_simulator
from tests.fakes import T0, record
from tests.test_reports import CHROMIUM, CHROMIUM_ARGS, DATA, browser_or_fail

PROBE = json.loads((DATA / "simulator-probe.json").read_text(encoding="utf-8"))


def sample(t: float, **by_pid: str) -> ActivitySample:
    """A sample at t seconds whose server clock reads T0 + t + 0.5 s (the log is on that clock)."""
    pids = {int(pid[1:]): state for pid, state in by_pid.items()}
    states: dict[str, int] = {}
    for state in pids.values():
        states[state] = states.get(state, 0) + 1
    return ActivitySample(t, len(pids), states, pids, T0 + timedelta(seconds=t + 0.5))


def pool_timeline() -> ActivityTimeline:
    return ActivityTimeline([
        sample(0.0), sample(0.025, p11=""), sample(0.05, p11="active"), sample(0.075, p11="active"),
        sample(0.1, p11="active", p12="idle in transaction"),
        # 0.4 s without a sample (the server was busy): a gap, never folded over
        sample(0.5, p11="active", p12="idle in transaction"), sample(0.525, p12="idle"), sample(0.55)])


def pool_log() -> list[Any]:
    return [record(0.51, "connection authorized: user=r database=d", pid=11),
            record(0.58, "connection authorized: user=r database=d", pid=12),
            record(0.59, "too many connections for role", pid=13, severity="FATAL", state="53300"),
            record(1.0, "disconnection: session time", pid=11), record(1.06, "disconnection: session time", pid=12)]


def test_the_record_folds_equal_samples_never_across_a_gap_and_places_the_log_by_the_server_clock() -> None:
    activity = activity_record(pool_timeline(), pool_log(), {"burst": (T0 + timedelta(seconds=0.55), T0 + timedelta(seconds=1.0))},
                               {"pool max": 2})
    assert activity["pids"] == [11, 12]
    assert activity["samples"] == [[0.0, 0.0, 1, ".."], [0.025, 0.025, 1, "s."], [0.05, 0.075, 2, "a."],
                                   [0.1, 0.1, 1, "at"], [0.5, 0.5, 1, "at"], [0.525, 0.525, 1, ".i"],
                                   [0.55, 0.55, 1, ".."]]
    assert activity["events"] == [[0.01, "opened", 11], [0.08, "opened", 12], [0.09, "refused", 13],
                                  [0.5, "closed", 11], [0.56, "closed", 12]]
    assert activity["windows"] == [{"label": "burst", "from_s": 0.05, "to_s": 0.5}]
    assert activity["config"] == {"pool max": 2} and activity["codes"]["t"] == "idle in transaction"


def driver_case(name: str, connect: float, query: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "topology": "direct", "outcome": "passed",
            "observed": {"connect_p50_ms": connect, "connect_p95_ms": connect * 1.5, "query_p50_ms": query,
                         "query_p95_ms": query * 2, "tls": True, **extra}}


def replay_run() -> dict[str, Any]:
    activity = activity_record(pool_timeline(), pool_log(), config={"pool max": 2})
    pool_case = {"name": "pool_bounded", "topology": "direct", "outcome": "passed",
                 "observed": {"timeline": [[0.0, 0], [0.1, 2]], "activity": activity, "elapsed_ms": 540}}
    return {"schema": 1, "backend": "native", "postgres": "15.18", "commit": "0123456789abcdef",
            "started": "2026-03-01T12:00:00+00:00", "finished": "2026-03-01T12:05:00+00:00", "errors": [],
            "examples": [{"id": "python/psycopg2", "language": "python", "driver": "psycopg2", "outcome": "passed",
                          "scenarios": [driver_case("connect_latency_tls", 11.3, 0.116),
                                        driver_case("connect_latency_remote", 285.48, 40.75, link_rtt_ms=40.0),
                                        pool_case]}],
            "lifecycle": {"probe": PROBE, "drivers": {}}}


def test_the_page_is_self_contained_and_escapes_what_it_embeds(tmp_path: Path) -> None:
    run = replay_run()
    run["examples"][0]["id"] = "python/</script><b>x"
    html = render_simulator(run)
    assert "</script><b>x" not in html and "<\\/script><b>x" in html   # the data island cannot end early
    assert "python/&lt;/script&gt;&lt;b&gt;x" in html                 # the template's text is escaped
    assert "default-src 'none'" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "src=" not in html and "<link rel=\"stylesheet\"" not in html


STATE_JS = """() => ({
  frame: +document.getElementById('pooling').dataset.frame,
  t: document.getElementById('pool-caption').dataset.t,
  caption: document.getElementById('pool-caption').textContent,
  lanes: [...document.querySelectorAll('#lanes .lane[data-pid]')].map(l => [+l.dataset.pid, l.dataset.state,
          l.querySelector('.lane-state').textContent]),
  counts: Object.fromEntries([...document.querySelectorAll('#pool-now tr[data-count]')].map(
          r => [r.dataset.count, r.querySelector('td.num').textContent])),
  width: document.documentElement.scrollWidth})"""
STEPS_JS = """() => ({
  bars: [...document.querySelectorAll('#waterfall .bar')].map(b => [b.dataset.step, b.dataset.ms]),
  texts: [...document.querySelectorAll('#waterfall .bar-text')].map(t => t.textContent),
  frame: +document.getElementById('lifecycle').dataset.frame})"""


def js_number(value: float) -> str:
    """A number as the page's String() prints it (40.0 -> "40")."""
    return str(int(value)) if float(value).is_integer() else str(value)


def step_through(page: Any, run: dict[str, Any]) -> list[str]:
    """Every frame of both players, by keyboard; what differs from results.json."""
    wrong: list[str] = []
    options = page.eval_on_selector_all("#lifecycle-pick option", "os => os.map(o => o.textContent)")
    lifecycles = [("plain", PROBE), ("tls", PROBE), ("plain", PROBE["remote"]), ("tls", PROBE["remote"])]
    assert len(options) == 6 and "over the 40.0 ms RTT link" in options[5], options
    for index, (mode, section) in enumerate(lifecycles):
        page.select_option("#lifecycle-pick", index=index)
        page.focus("#lifecycle")
        steps = list(section[mode]["steps"].items())
        for k in range(len(steps) + 1):
            shown = page.evaluate(STEPS_JS)
            expected = [[name, str(figures["p50"])] for name, figures in steps[:k]]
            if shown["frame"] != k or [[b[0], str(float(b[1]))] for b in shown["bars"]] != \
                    [[n, str(float(v))] for n, v in expected]:
                wrong.append(f"lifecycle {index} frame {k}: {shown} != {expected}")
            for (name, figures), text in zip(steps[:k], shown["texts"]):
                if not text.startswith(f"{js_number(figures['p50'])} ms"):
                    wrong.append(f"lifecycle {index} step {name}: {text!r} does not show {figures['p50']} ms")
            page.keyboard.press("ArrowRight")
    page.select_option("#lifecycle-pick", index=5)   # the driver over the link: its own connect median
    page.focus("#lifecycle")
    page.keyboard.press("End")
    shown = page.evaluate(STEPS_JS)
    if shown["bars"] != [["connect", "285.48"], ["query", "40.75"]]:
        wrong.append(f"the driver over the link shows {shown['bars']}")
    activity = run["examples"][0]["scenarios"][2]["observed"]["activity"]
    page.focus("#pooling")
    page.keyboard.press("Home")
    for k, (t_first, _t_last, _count, states) in enumerate(activity["samples"]):
        shown = page.evaluate(STATE_JS)
        events = [e for e in activity["events"] if e[0] <= t_first]
        expected_lanes = [[pid, code] for pid, code in zip(activity["pids"], states)]
        if shown["frame"] != k or float(shown["t"]) != t_first or [l[:2] for l in shown["lanes"]] != expected_lanes:
            wrong.append(f"pool frame {k}: {shown} != t {t_first}, lanes {expected_lanes}")
        for lane, code in zip(shown["lanes"], states):
            if code != "." and lane[2] != activity["codes"][code]:
                wrong.append(f"pool frame {k}: lane {lane} is not labelled {activity['codes'][code]!r}")
        for kind in ("opened", "closed", "refused"):
            if shown["counts"].get(kind) != str(sum(1 for e in events if e[1] == kind)):
                wrong.append(f"pool frame {k}: {kind} shows {shown['counts'].get(kind)}, the log has {events}")
        gap = k > 0 and t_first - activity["samples"][k - 1][1] > activity["gap_after_s"]
        if gap != ("No sample was taken" in shown["caption"]):
            wrong.append(f"pool frame {k}: gap {gap}, caption {shown['caption']!r}")
        page.keyboard.press("ArrowRight")
    return wrong


def test_the_simulator_in_headless_chromium_replays_what_results_json_holds(tmp_path: Path) -> None:
    run = replay_run()
    (tmp_path / "results.json").write_text(json.dumps(run), encoding="utf-8")
    path = write_simulator(run, tmp_path)
    sync_playwright = browser_or_fail()
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (1360, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                        if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
                        else problems.append(f"network request: {r.url}"))
                page.goto(path.as_uri(), wait_until="load")
                assert step_through(page, run) == [], width
                assert page.evaluate("document.documentElement.scrollWidth") == width   # no sideways scroll
                legend = page.eval_on_selector_all(".legend li", "ls => ls.map(l => l.textContent.trim())")
                assert {"active", "idle", "idle in transaction", "no sample (a gap)", "refused (53300)"} <= set(legend)
                # play runs the frames by their measured spacing, pause stops them
                page.focus("#pooling")
                page.keyboard.press("Home")
                page.keyboard.press(" ")
                page.wait_for_function("() => +document.getElementById('pooling').dataset.frame >= 2", timeout=5000)
                page.keyboard.press(" ")
                stopped = page.evaluate("+document.getElementById('pooling').dataset.frame")
                page.wait_for_timeout(300)
                assert page.evaluate("+document.getElementById('pooling').dataset.frame") == stopped
                if width == 1360:
                    page.screenshot(path=str(tmp_path / "simulator.png"), full_page=True)
                page.close()
        finally:
            browser.close()
    assert problems == []
    assert (tmp_path / "simulator.png").stat().st_size > 10_000
