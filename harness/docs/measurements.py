"""Tables the page sets beside its claims, made from the snapshot (never from a live run)."""

from __future__ import annotations

import re
from typing import Any, Callable

from harness.docs.site import PLACEHOLDER
from harness.docs.snapshot import runs_of, story_run
from harness.reporting.cutover_view import cutover_rows
from harness.reporting.pool_exhaustion_view import exhaustion_stories, figure
from harness.reporting.statement_view import pool_sizing_runs

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


# How the page names a run's outcomes, in this order.
OUTCOME_WORDS = {"passed": "passed", "xfailed": "known failures", "failed": "failed", "xpassed": "xpassed",
                 "skipped": "skipped", "not_applicable": "n/a"}


def _cell(value: Any, width: int = 90) -> str:
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= width else text[:width - 1] + "…"


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _commits(run: dict[str, Any], slug: str) -> str:
    shas = [sha for sha in str(run.get("commit") or "").split(", ") if sha]
    if not shas:
        return "–"
    linked = [f"[`{sha[:10]}`](https://github.com/{slug}/commit/{sha})" if slug and slug != PLACEHOLDER
              else f"`{sha[:10]}`" for sha in shas]
    return ", ".join(linked) + (" with uncommitted changes" if run.get("dirty") else "")


def runs_table(snapshot: dict[str, Any]) -> list[str]:
    """The runs the page's lines come from: when, the commit, where, and their cases by outcome."""
    runs = sorted((snapshot.get("runs") or {}).values(), key=lambda r: (r.get("finished", ""), r.get("backend", "")))
    if not runs:
        return ["<sub>⚠ no run recorded yet: run `python -m harness run`, then `python -m harness docs`.</sub>"]
    rows = ["| run finished (UTC) | commit | backend | topologies | cases |", "|---|---|---|---|---|"]
    for run in runs:
        counts = run.get("counts", {})
        cases = ", ".join(f"{counts[o]} {w}" for o, w in OUTCOME_WORDS.items() if counts.get(o))
        pooler = f", PgBouncer {run['pooler']}" if run.get("pooler") else ""
        rows.append(f"| {run.get('finished', '?').replace('T', ' ').replace('+00:00', '')} | "
                    f"{_commits(run, snapshot.get('repository', ''))} | {run.get('backend')}, PostgreSQL "
                    f"{run.get('postgres', '?')}{pooler} | {', '.join(run.get('topologies', []))} | "
                    f"{cases or 'none'} ({_many(sum(counts.values()), 'case')} of {_many(len(run.get('examples', [])), 'example')}) |")
    return rows


def _story_backend(snapshot: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    stories = snapshot.get("stories") or {}
    backend = "native" if stories.get("native") else next(iter(sorted(stories)), "native")
    return backend, story_run(snapshot, backend)


def pool_exhaustion(snapshot: dict[str, Any]) -> list[str]:
    """The first PgBouncer story: Run 1 straight to the server beside Run 2 through PgBouncer."""
    backend, run = _story_backend(snapshot)
    stories = exhaustion_stories(run)
    if not stories:
        return ["<sub>⚠ no pool-exhaustion story measured yet: `python -m harness run --via "
                "direct,pgbouncer-transaction --scenario story_pool_exhaustion`, then `python -m harness docs`.</sub>"]
    rows = ["| example | run | outcome | requests refused (server's 53300) | latency p50 / p95 / max ms "
            "| wait for a connection p95 ms | server backends at peak (limit) |", "|---|---|---|---:|---:|---:|---:|"]
    notes = []
    for story in stories:
        for half in story.runs:
            f = half.figures
            rows.append(f"| {story.example} | {half.label} | {half.outcome} | {figure(half, 'refused')} of "
                        f"{figure(half, 'requests')} ({figure(half, 'server_refusals')}) | {figure(half, 'latency_p50_ms')}"
                        f" / {figure(half, 'latency_p95_ms')} / {figure(half, 'latency_max_ms')} | "
                        f"{figure(half, 'wait_p95_ms')} | {figure(half, 'peak_backends')} ({f.get('budget', '–')}) |")
        if story.missing:
            notes.append(f"{story.example}: {story.missing}")
    page = stories[0].page
    return rows + ["", f"<sub>Measured on the {backend} backend: {len(stories)} example(s), each with several "
                       f"services' pools against one server. The page's claim \"{page}\" is shown, not asserted."
                       + "".join(f" {n}." for n in notes) + "</sub>"]


def cutover(snapshot: dict[str, Any]) -> list[str]:
    """The PAUSE/RESUME cutover and its limit: the window, the longest transaction, nothing lost."""
    backend, run = _story_backend(snapshot)
    found = cutover_rows(run)
    if not found:
        return ["<sub>⚠ no cutover measured yet: `python -m harness run --via pgbouncer-transaction --scenario "
                "'story_pause_resume_*'`, then `python -m harness docs`.</sub>"]
    rows = ["| example | through | case | outcome | pause window ms | longest transaction ms | acknowledged "
            "(old + new server) | lost / twice | errors the clients saw |", "|---|---|---|---|---:|---:|---:|---:|---|"]
    for row in found:
        f = row.figures
        fixed = f" (`{row.snippet}`)" if row.snippet else ""
        rows.append(f"| {row.example} | {row.topology}{fixed} | {'limit' if row.is_limit else 'cutover'} | {row.outcome} | "
                    f"{f.get('pause_window_ms')} | {f.get('max_latency_warm_ms')} | {f.get('acknowledged')} "
                    f"({f.get('on_old_server')} + {f.get('on_new_server')}) | {f.get('lost')} / {f.get('twice')} | "
                    f"{_cell(row.errors)} |")
    page = next((r.figures["page"] for r in found if r.figures.get("page")), "(not recorded)")
    return rows + ["", f"<sub>Measured on the {backend} backend: writers committed short transactions through "
                       "PgBouncer while the harness PAUSEd, switched servers, RELOADed and RESUMEd; \"lost\" counts "
                       "acknowledged commits found on neither server. The limit holds the switch past "
                       f"`query_wait_timeout`. The page's claim \"{page}\" is shown beside the window, not "
                       "asserted.</sub>"]


def n_plus_one(snapshot: dict[str, Any]) -> list[str]:
    """The ORM's N+1 story: statements and round trips lazily and eagerly, counted by the server."""
    backend, run = _story_backend(snapshot)
    told = [(e["id"], c) for e in run["examples"] for c in e["scenarios"] if "story" in c.get("observed", {})]
    if not told:
        return ["<sub>⚠ no N+1 story measured yet: `python -m harness run --scenario story_orm_n_plus_one`, then "
                "`python -m harness docs`.</sub>"]
    rows = ["| example | through | users | statements, lazily → eagerly | round trips | wall time ms |",
            "|---|---|---:|---:|---:|---:|"]
    for example_id, case in told:
        story = case["observed"]["story"]
        naive, eager = story.get("naive", {}), story.get("eager", {})
        rows.append(f"| {example_id} | {case['topology']} | {story.get('users')} | {naive.get('statements')} → "
                    f"{eager.get('statements')} | {naive.get('round_trips')} → {eager.get('round_trips')} "
                    f"(−{story.get('round_trips_reduced_percent')}%) | {naive.get('ms')} → {eager.get('ms')} |")
    page = told[0][1]["observed"]["story"].get("page", "")
    return rows + ["", f"<sub>Counted on the {backend} backend from pg_stat_statements and the statement log "
                       f"(docs/statements.md). The page's claim: \"{page}\".</sub>"]


def pool_sizing(snapshot: dict[str, Any]) -> list[str]:
    """The pool-size rule of thumb against the throughput measured at several sizes."""
    backend, run = _story_backend(snapshot)
    measured = pool_sizing_runs(run)
    if not measured:
        return ["<sub>⚠ no pool sizing measured yet: `python -m harness run --scenario story_pool_sizing`, then "
                "`python -m harness docs`.</sub>"]
    sizes = sorted({s["size"] for _, sizing in measured for s in sizing["sizes"]})
    rows = ["| example | " + " | ".join(f"size {n}: requests/s" for n in sizes) + " | the rule's size | verdict |",
            "|---|" + "---:|" * len(sizes) + "---:|---|"]
    for example_id, sizing in measured:
        by_size = {s["size"]: s.get("throughput_per_s") for s in sizing["sizes"]}
        rows.append(f"| {example_id} | " + " | ".join(str(by_size.get(n, "–")) for n in sizes)
                    + f" | {sizing.get('formula')} | {_cell(sizing.get('verdict', ''), 140)} |")
    first = measured[0][1]
    return rows + ["", f"<sub>Measured on the {backend} backend with {first.get('cores')} cores and "
                       f"{first.get('spindles')} spindles counted: half the requests CPU-bound, half waiting on "
                       f"`pg_sleep`. The rule: \"{first.get('page')}\".</sub>"]


TABLES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "connect_claim": connect_claim, "connect_time": connect_time, "pool_scenarios": pool_scenarios,
    "run": runs_table, "pool_exhaustion": pool_exhaustion, "cutover": cutover, "n_plus_one": n_plus_one,
    "pool_sizing": pool_sizing}
