"""The Connection Simulator's data, from a results.json: what reports/simulator.html replays.
A replay, not a simulation: every frame is a measurement the run recorded.

  lifecycle  one connection's steps, for the probe (each step timed on its own: p50 of its fresh
             connections) and for each driver (its own connect call as one step, then a query on
             the open connection), locally and over the simulated link; one frame per step
  pools      the pool cases that recorded `observed.activity` (harness/activity_record.py): one
             frame per folded sample entry, each backend's state, the connection log up to then;
             the client side's waits as the example measured them (totals: not sampled over time)"""

from __future__ import annotations

from typing import Any

from harness.reporting.view import page_claims, run_time, topology_of

# The configurations offered, in this order: the runs the page's stories and pool rules made.
REPLAYED = ("story_pool_exhaustion", "story_pool_sizing", "pool_bounded", "story_pause_resume_cutover",
            "story_pause_resume_limit")
PROBE_STEPS = {"resolve": "name resolution", "tcp": "TCP connect", "tls": "TLS handshake",
               "auth": "startup + SCRAM", "ready": "backend start", "query": "SELECT 1"}
MODES = {"plain": "without TLS", "tls": "with TLS (verify-full)"}
# The driver figures each lifecycle scenario records, by where it connected.
DRIVER_SCENARIOS = {"connect_latency": ("local", "plain"), "connect_latency_tls": ("local", "tls"),
                    "connect_latency_remote": ("link", "tls")}
RUN_OUTCOMES = ("passed", "failed", "xpassed", "xfailed")


def _probe_lifecycles(probe: dict[str, Any], claims: dict[str, list[float]]) -> list[dict[str, Any]]:
    sections = [("local", probe, claims.get("local"))]
    if probe.get("remote"):
        sections.append(("link", probe["remote"], claims.get("remote_ssl")))
    out = []
    for where, section, band in sections:
        for mode in MODES:
            figures = section.get(mode) or {}
            steps = [{"name": name, "label": PROBE_STEPS[name], "ms": figures["steps"][name]["p50"],
                      "p95": figures["steps"][name]["p95"]} for name in PROBE_STEPS if name in figures.get("steps", {})]
            if not steps:
                continue
            out.append({"id": f"probe-{where}-{mode}", "who": "harness probe", "where": where, "mode": mode,
                        "rtt_ms": section.get("rtt_ms"), "samples": section.get("samples") or probe.get("samples"),
                        "band": band, "steps": steps, "connect_p50_ms": figures.get("connect", {}).get("p50"),
                        "total_p50_ms": figures.get("total", {}).get("p50"),
                        "note": f"each step on its own, median of {section.get('samples') or probe.get('samples')} "
                                f"fresh connections; TLS {figures.get('tls_version') or 'off'}, "
                                f"authentication {figures.get('auth_mechanism') or '?'}"})
    return out


def _driver_lifecycles(run: dict[str, Any], claims: dict[str, list[float]]) -> list[dict[str, Any]]:
    out = []
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            placed = DRIVER_SCENARIOS.get(case.get("name", ""))
            observed = case.get("observed") or {}
            if placed is None or topology_of(case) != "direct" or case.get("outcome") not in RUN_OUTCOMES \
                    or "connect_p50_ms" not in observed:
                continue
            where, mode = placed
            steps = [{"name": "connect", "label": "the driver's connect call (resolve to ready)",
                      "ms": observed["connect_p50_ms"], "p95": observed.get("connect_p95_ms")}]
            if "query_p50_ms" in observed:
                steps.append({"name": "query", "label": "a query on the open connection",
                              "ms": observed["query_p50_ms"], "p95": observed.get("query_p95_ms")})
            out.append({"id": f"{example['id']}-{where}-{mode}", "who": example["id"], "where": where, "mode": mode,
                        "rtt_ms": observed.get("link_rtt_ms"), "samples": None,
                        "band": claims.get("remote_ssl" if where == "link" else "local"), "steps": steps,
                        "connect_p50_ms": observed["connect_p50_ms"], "total_p50_ms": None,
                        "note": f"{case['name']}: the driver's own timings (median); its connect call is one step, "
                                "its parts are not timed apart"})
    return sorted(out, key=lambda c: (c["who"], c["where"] != "local", c["mode"]))


def _config_line(scenario: str, observed: dict[str, Any]) -> str:
    """The configuration a run was made with, in the words of its figures."""
    activity = observed.get("activity") or {}
    settings = activity.get("config") or {}
    return ", ".join(f"{k} {v}" for k, v in settings.items())


def _client_side(observed: dict[str, Any]) -> list[dict[str, Any]]:
    """The client side's figures the example measured for the whole case (not per sample)."""
    rows: list[dict[str, Any]] = []
    story = observed.get("pool_exhaustion")
    if story:
        rows += [{"label": "requests", "value": story.get("requests")},
                 {"label": "refused (53300, as the example saw it)", "value": story.get("refused")},
                 {"label": "failed", "value": story.get("failed")},
                 {"label": "waited for a pool connection (queued)", "value": story.get("queued")},
                 {"label": "pool wait p95 ms", "value": story.get("wait_p95_ms")},
                 {"label": "latency p50 ms", "value": story.get("latency_p50_ms")}]
    for size in (observed.get("pool_sizing") or {}).get("sizes", []):
        rows += [{"label": f"pool size {size['size']}: mean pool wait ms", "value": size.get("wait_mean_ms")},
                 {"label": f"pool size {size['size']}: throughput /s", "value": size.get("throughput_per_s")}]
    cutover = observed.get("cutover")
    if cutover:
        rows += [{"label": "PAUSE to RESUME ms (measured by the harness)", "value": cutover.get("pause_window_ms")},
                 {"label": "transactions acknowledged", "value": cutover.get("acknowledged")},
                 {"label": "transactions failed", "value": cutover.get("failed")},
                 {"label": "transaction latency max ms", "value": cutover.get("max_latency_ms")}]
    if "elapsed_ms" in observed:
        rows.append({"label": "the burst took ms (the example's clock)", "value": observed.get("elapsed_ms")})
    return [r for r in rows if r["value"] is not None]


def pool_replays(run: dict[str, Any]) -> list[dict[str, Any]]:
    date = run_time(run).strftime("%Y-%m-%d %H:%M UTC")
    out = []
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            observed = case.get("observed") or {}
            activity = observed.get("activity")
            if case.get("name") not in REPLAYED or not activity or not activity.get("samples"):
                continue
            topology = topology_of(case)
            out.append({"id": f"{example['id']}|{case['name']}|{topology}", "example": example["id"],
                        "scenario": case["name"], "topology": topology, "date": date, "outcome": case.get("outcome"),
                        "config": _config_line(case["name"], observed),
                        "side": "PgBouncer's server connections" if topology != "direct" else "the example's backends",
                        **{k: activity.get(k) for k in ("interval_s", "gap_after_s", "codes", "pids", "samples",
                                                         "events", "windows")},
                        "client": _client_side(observed)})
    return sorted(out, key=lambda r: (REPLAYED.index(r["scenario"]), r["example"], r["topology"] != "direct",
                                      r["topology"]))


def simulator_data(run: dict[str, Any]) -> dict[str, Any]:
    claims = page_claims(run)
    probe = (run.get("lifecycle") or {}).get("probe")
    return {"run": {"date": run_time(run).strftime("%Y-%m-%d %H:%M UTC"), "commit": (run.get("commit") or "")[:12],
                    "backend": run.get("backend") or "", "postgres": run.get("postgres") or ""},
            "claims": claims,
            "lifecycle": (_probe_lifecycles(probe, claims) if probe else []) + _driver_lifecycles(run, claims),
            "pools": pool_replays(run)}
