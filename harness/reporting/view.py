"""The one place that turns a results.json (RunResult.to_json) into what the reports show: the
outcome symbols, the matrix, the counts and badge messages, the connect-time rows (the probe and
each driver) and the page's claims. The writers (terminal, html, charts, junit, badges,
markdown) only render these.

The reports work from the JSON, not the dataclasses, so they can be rebuilt from any
results.json: one written by the CLI, by pytest, or merged from several CI jobs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from harness.verdict import (BAD, FAILED, LOOKS, NOT_APPLICABLE, OUTCOMES, PASSED, SKIPPED, XFAILED, XPASSED, Look,
                             Standing, Tally, look, standing)

# The outcome vocabulary and its looks are harness.verdict's; re-exported for the renderers.
__all__ = ["PASSED", "FAILED", "SKIPPED", "NOT_APPLICABLE", "XFAILED", "XPASSED", "OUTCOMES", "BAD", "Look", "LOOKS",
           "look", "Tally", "Standing"]


def ms(value: Any) -> str:
    """A figure in ms as every report prints it; a dash when it was not measured."""
    return f"{value:.2f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


# -- names ------------------------------------------------------------------------------------

def file_stem(example_id: str) -> str:
    """`<language>/<name>` -> `<language>-<name>`, the stem of every per-example file."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", example_id.replace("/", "-", 1))


def case_anchor(example_id: str, scenario: str) -> str:
    return "case-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{example_id}--{scenario}")


def example_anchor(example_id: str) -> str:
    return "example-" + example_id.replace("/", "-")


# -- when and how long ------------------------------------------------------------------------

def run_time(run: dict[str, Any]) -> datetime:
    """When the run finished (results.json `finished`); now for a file that does not say."""
    for key in ("finished", "started"):
        value = run.get(key)
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


# -- counts -----------------------------------------------------------------------------------

def _tally(example: dict[str, Any]) -> Tally:
    return Tally.of(s.get("outcome", "") for s in example.get("scenarios", []))


def example_standing(example: dict[str, Any]) -> Standing:
    return standing(example["id"], _tally(example), outcome=example.get("outcome", ""))


OVERALL_LABEL = "conformance"


def run_standing(run: dict[str, Any]) -> Standing:
    tally = Tally.of([])
    failed_examples = 0
    for example in run.get("examples", []):
        tally = tally + _tally(example)
        failed_examples += example.get("outcome") == FAILED
    return standing(OVERALL_LABEL, tally, outcome=FAILED if failed_examples else "", errors=len(run.get("errors", [])))


def outcome_counts(run: dict[str, Any]) -> Counter[str]:
    return Counter(s.get("outcome", "") for e in run.get("examples", []) for s in e.get("scenarios", []))


# -- the matrix -------------------------------------------------------------------------------

def topology_of(case: dict[str, Any]) -> str:
    return str(case.get("topology") or "direct")


def case_title(case: dict[str, Any]) -> str:
    """A case named with its topology: one example's story_pool_exhaustion ran direct and pooled."""
    return f"{case['name']} · {topology_of(case)}"


def direct_cases(example: dict[str, Any], topology: str = "direct") -> list[dict[str, Any]]:
    """The example's cases straight to the server (the pooled ones are the PgBouncer matrix's), or
    those of another topology."""
    return [s for s in example.get("scenarios", []) if s.get("topology", "direct") == topology]


def run_topologies(run: dict[str, Any]) -> list[str]:
    """The topologies the run's cases went through, direct first, then in the order they ran."""
    seen = ["direct"] + [s.get("topology", "direct") for e in run.get("examples", []) for s in e.get("scenarios", [])]
    present = {s.get("topology", "direct") for e in run.get("examples", []) for s in e.get("scenarios", [])}
    return [t for t in dict.fromkeys(seen) if t in present]


def scenario_order(run: dict[str, Any], topology: str = "direct") -> list[str]:
    """Every scenario name of the run once, in spec order (each example lists them in spec order)."""
    names: list[str] = []
    for example in run.get("examples", []):
        previous = -1
        for scenario in direct_cases(example, topology):
            name = scenario["name"]
            if name in names:
                previous = names.index(name)
            else:
                previous += 1
                names.insert(previous, name)
    return names


@dataclass(frozen=True)
class MatrixRow:
    scenario: str
    cases: list[dict[str, Any] | None]   # one per example of the run, None: not part of the run


def matrix_rows(run: dict[str, Any], topology: str = "direct") -> list[MatrixRow]:
    examples = run.get("examples", [])
    by_example = [{s["name"]: s for s in direct_cases(e, topology)} for e in examples]
    return [MatrixRow(name, [cases.get(name) for cases in by_example]) for name in scenario_order(run, topology)]


def failed_cases(run: dict[str, Any], *, with_known: bool = False) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(example, case) of each failed or xpassed case (and known failures if asked), in run order."""
    kinds = BAD + ((XFAILED,) if with_known else ())
    return [(e, s) for e in run.get("examples", []) for s in e.get("scenarios", []) if s.get("outcome") in kinds]


@dataclass(frozen=True)
class Section:
    label: str
    lines: list[tuple[str, str]]   # (kind, line); kind: "" or, in a diff, "add" / "del" / "hunk"


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """A unified diff's lines with what each is: + actual, - expected, or a hunk header."""
    kinds = []
    for line in diff.splitlines():
        kind = "hunk" if line.startswith(("+++", "---", "@@")) else "add" if line.startswith("+") \
            else "del" if line.startswith("-") else ""
        kinds.append((kind, line))
    return kinds


def _plain(text: str) -> list[tuple[str, str]]:
    return [("", line) for line in text.rstrip().splitlines()]


def known_failure_line(case: dict[str, Any]) -> str:
    """An xfail's reason in one line: why it is known, what it was expected to show and showed."""
    known = case.get("known_failure")
    if not isinstance(known, dict):
        return ""
    link = f" {known['link']}" if known.get("link") else ""
    return (f"{known.get('reason', '')}{link}; expected {known.get('expected', '')}, showed {known.get('shown', '')}"
            f" (declared in {known.get('declared_in', '')})")


def failure_sections(case: dict[str, Any]) -> list[Section]:
    """What a failed case shows, piece by piece (older results.json files: the rendered details);
    a known failure's reason first."""
    known = [Section("known failure", _plain(known_failure_line(case)))] if case.get("known_failure") else []
    parts = case.get("failure")
    if not isinstance(parts, dict):
        text = case.get("details") or case.get("message") or ""
        return known + ([Section("details" if case.get("details") else "message", _plain(text))] if text else [])
    problems = "\n".join([parts.get("summary", ""), *(f"  - {p}" for p in parts.get("problems") or [])])
    sections = [*known, Section("problems", _plain(problems))]
    if parts.get("diff"):
        sections.append(Section("expected vs actual (- expected, + actual)", diff_lines(parts["diff"])))
    if parts.get("stderr_tail"):
        sections.append(Section("example stderr (last lines)", _plain(parts["stderr_tail"])))
    if parts.get("server_view"):
        sections.append(Section("what the server saw", _plain(parts["server_view"])))
    return sections


# -- connect times ----------------------------------------------------------------------------

# What the page says a new connection costs (older results.json files carry it in the probe).
PAGE_CLAIM_MS = {"local": [20, 50], "remote_ssl": [100, 300]}
# The figures a connect-latency case observes that the reports quote.
LATENCY_KEYS = ("connect_p50_ms", "connect_p95_ms", "query_p50_ms", "query_p95_ms", "server_auth_p50_ms", "pooled")


def page_claims(run: dict[str, Any]) -> dict[str, list[float]]:
    probe = (run.get("lifecycle") or {}).get("probe") or {}
    return {**PAGE_CLAIM_MS, **(probe.get("page_claim_ms") or {})}


def driver_figures(examples: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per example, what its connect-latency cases measured, by mode: {"plain": {...}, "tls": {...}}.
    A case counts when it ran (passed or not) and observed connect_p50_ms and whether it used TLS."""
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    for example in examples:
        for case in direct_cases(example):   # the page's connect times are straight to the server
            observed = case.get("observed") or {}
            if case.get("outcome") in (PASSED, XPASSED, FAILED) and "connect_p50_ms" in observed \
                    and isinstance(observed.get("tls"), bool):
                mode = "tls" if observed["tls"] else "plain"
                figures.setdefault(example["id"], {})[mode] = {k: observed[k] for k in LATENCY_KEYS if k in observed}
    return figures


@dataclass(frozen=True)
class ConnectRow:
    """One line of the connect-time tables and chart: the probe (local or over the simulated
    link) or a driver, in the same shape."""

    label: str
    plain: dict[str, Any]    # connect_p50_ms, connect_p95_ms, query_p50_ms (, server_auth_p50_ms, pooled)
    tls: dict[str, Any]
    tls_steps: dict[str, dict[str, float]]   # the probe's steps over TLS (p50 ...); {} for a driver
    remote: bool = False
    probe: bool = False

    @property
    def pooled(self) -> bool:
        return bool(self.plain.get("pooled") or self.tls.get("pooled"))


def probe_rows(probe: dict[str, Any] | None) -> list[ConnectRow]:
    """The local probe, then (when measured) the same over the simulated link."""
    if not probe:
        return []
    sections = [("harness probe", probe, False)]
    if probe.get("remote"):
        sections.append((f"harness probe, {probe['remote']['rtt_ms']:g} ms RTT link", probe["remote"], True))
    rows = []
    for label, section, remote in sections:
        modes = {mode: {"connect_p50_ms": section[mode]["connect"]["p50"],
                        "connect_p95_ms": section[mode]["connect"]["p95"],
                        "query_p50_ms": section[mode]["steps"]["query"]["p50"]} for mode in ("plain", "tls")}
        rows.append(ConnectRow(label, modes["plain"], modes["tls"], section["tls"]["steps"], remote, probe=True))
    return rows


def connect_rows(run: dict[str, Any]) -> list[ConnectRow]:
    """The probe's rows, then each driver's (sorted by example id)."""
    lifecycle = run.get("lifecycle") or {}
    drivers = driver_figures(run.get("examples", [])) or lifecycle.get("drivers") or {}
    return probe_rows(lifecycle.get("probe")) + [
        ConnectRow(example_id, modes.get("plain", {}), modes.get("tls", {}), {})
        for example_id, modes in sorted(drivers.items())]
