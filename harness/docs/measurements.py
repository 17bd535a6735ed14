"""Tables the page sets beside its claims, made from the snapshot (never from a live run)."""

from __future__ import annotations

import re
from typing import Any, Callable

from harness.docs.snapshot import runs_of

# The pool scenarios, in the words of the page's pitfalls table.
POOL_SCENARIOS = {
    "pool_bounded": "never opens more than `max` connections",
    "pool_reuse": "reuses one backend for sequential queries",
    "pool_release": "gives every connection back (nothing left open after close)",
    "pool_acquire_timeout": "an acquire on an exhausted pool times out",
    "pool_idle_timeout": "closes idle connections after the idle timeout",
    "pool_recovery_terminate": "recovers when the server kills its backends",
    "pool_recovery_restart": "recovers from a server restart",
    "no_pool_exhaustion": "a burst the server refuses without a pool succeeds with one",
}
RTT = re.compile(r"(\d+(?:\.\d+)?) ms RTT")   # in harness.probe's label of the simulated link
SYMBOL = {"passed": "✔", "xfailed": "✔ (known failure)", "failed": "✘", "xpassed": "✘ (xpass)",
          "skipped": "–", "not_applicable": "n/a"}


def _ms(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, (int, float)) else "–"


def _range(pair: Any) -> str:
    return f"{pair[0]}-{pair[1]} ms" if isinstance(pair, list) and len(pair) == 2 else "?"


def connect_time(snapshot: dict[str, Any]) -> list[str]:
    """The probe's figures (local and over the simulated link) and every driver's, plain and TLS."""
    lifecycle = snapshot.get("lifecycle", {})
    backend = "native" if "native" in lifecycle else next(iter(sorted(lifecycle)), "")
    kept = lifecycle.get(backend)
    if not kept:
        return ["<sub>⚠ no connect-time measurements yet: run `python -m harness run`, then "
                "`python -m harness docs`.</sub>"]
    claim = kept.get("claim", {})
    rows = ["| measured (ms) | connect p50 | connect p95 | with TLS p50 | with TLS p95 | query on an open connection p50 |",
            "|---|---:|---:|---:|---:|---:|"]
    for probe in kept.get("probe", []):
        plain, tls = probe["figures"]["plain"], probe["figures"]["tls"]
        rows.append(f"| {probe['label']} | {_ms(plain['connect_p50_ms'])} | {_ms(plain['connect_p95_ms'])} | "
                    f"{_ms(tls['connect_p50_ms'])} | {_ms(tls['connect_p95_ms'])} | {_ms(plain['query_p50_ms'])} |")
    for example_id, modes in sorted(kept.get("drivers", {}).items()):
        plain, tls = modes.get("plain", {}), modes.get("tls", {})
        pooled = " (through the pool)" if plain.get("pooled") else ""
        rows.append(f"| {example_id} | {_ms(plain.get('connect_p50_ms'))} | {_ms(plain.get('connect_p95_ms'))} | "
                    f"{_ms(tls.get('connect_p50_ms'))} | {_ms(tls.get('connect_p95_ms'))} | "
                    f"{_ms(plain.get('query_p50_ms'))}{pooled} |")
    dates = sorted({m.get("date", "") for m in kept.get("drivers", {}).values()} | {kept.get("date", "")} - {""})
    when = dates[-1] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}" if dates else "?"
    counts = ", ".join(f"{p.get('samples') or '?'} ({p['label']})" for p in kept.get("probe", []))
    rows += ["", f"<sub>Measured on PostgreSQL {kept.get('postgres', '?')} ({backend} backend, loopback), {when}. "
                 f"Connections per figure: {counts or 'no probe'}; each driver as many as `connect_latency` asks "
                 f"for (spec/scenarios/). The seed page's claim: {_range(claim.get('local'))} local, "
                 f"{_range(claim.get('remote_ssl'))} remote with SSL.</sub>"]
    return rows


def _spread(values: list[float]) -> str:
    values = sorted(v for v in values if isinstance(v, (int, float)))
    if not values:
        return "?"
    return f"{values[0]:.0f} ms" if round(values[0]) == round(values[-1]) else f"{values[0]:.0f}-{values[-1]:.0f} ms"


def connect_claim(snapshot: dict[str, Any]) -> list[str]:
    """One sentence setting the measured medians beside the claim, ahead of the table."""
    kept = snapshot.get("lifecycle", {}).get("native") or next(iter(snapshot.get("lifecycle", {}).values()), None)
    if not kept or not kept.get("drivers"):
        return ["<sub>⚠ no connect-time measurements yet.</sub>"]
    drivers = kept["drivers"].values()
    plain = [d.get("plain", {}).get("connect_p50_ms") for d in drivers]
    tls = [d.get("tls", {}).get("connect_p50_ms") for d in drivers]
    text = (f"> **Measured:** on the loopback interface the {len(kept['drivers'])} drivers' median connect "
            f"time was {_spread(plain)} without TLS and {_spread(tls)} with TLS (verify-full, SCRAM-SHA-256)")
    for probe in kept.get("probe", []):
        rtt = RTT.search(probe["label"])
        if rtt:
            text += (f"; the harness's probe, over a simulated link with a {rtt.group(1)} ms round trip, needed "
                     f"{_spread([probe['figures']['tls']['connect_p50_ms']])} with TLS")
    return [text + f". {_verdict(plain + tls, kept.get('claim', {}).get('local'))} The remote figure is "
            "set by the round trips of TCP, TLS and SCRAM times the link's round-trip time."]


def _verdict(measured: list[Any], band: Any) -> str:
    """Where the medians fall against the claim's local band."""
    values = [v for v in measured if isinstance(v, (int, float))]
    if not values or not (isinstance(band, list) and len(band) == 2):
        return ""
    if max(values) < band[0]:
        return f"Every one is below the claim's local {band[0]}-{band[1]} ms: a server on the same host is cheaper."
    if min(values) > band[1]:
        return f"Every one is above the claim's local {band[0]}-{band[1]} ms."
    return f"They overlap the claim's local {band[0]}-{band[1]} ms."


def pool_scenarios(snapshot: dict[str, Any]) -> list[str]:
    """Each pooled example's latest outcome of every pool scenario."""
    pooled: dict[str, dict[str, str]] = {}
    for example_id in sorted(snapshot.get("examples", {})):
        outcomes: dict[str, str] = {}
        for run in runs_of(snapshot, example_id):
            for name, outcome in run.scenarios.items():
                if name in POOL_SCENARIOS and outcomes.get(name) in (None, "passed", "not_applicable", "skipped"):
                    outcomes[name] = outcome   # a bad outcome on any backend wins
        if any(o != "not_applicable" for o in outcomes.values()):
            pooled[example_id] = outcomes
    if not pooled:
        return ["<sub>⚠ no pool results yet.</sub>"]
    rows = ["| the pool ... | " + " | ".join(pooled) + " |", "|---|" + "---|" * len(pooled)]
    for name, words in POOL_SCENARIOS.items():
        cells = [SYMBOL.get(pooled[e].get(name, ""), "–") for e in pooled]
        rows.append(f"| {words} (`{name}`) | " + " | ".join(cells) + " |")
    return rows


TABLES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "connect_claim": connect_claim, "connect_time": connect_time, "pool_scenarios": pool_scenarios}
