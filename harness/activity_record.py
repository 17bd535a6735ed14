"""What a pool case records for the report's Connection Simulator (reporting/simulator.py) to
replay, as results.json `observed.activity`: each backend's state at every pg_stat_activity sample
(the `timeline` beside it keeps only the count), and the connection log's opens, closes and
refusals placed on the samples' clock. Nothing is interpolated: consecutive samples that saw the
same states are folded into one entry that says how many samples it stands for and when the first
and the last were taken; a stretch without samples (the server restarting) stays a gap.

  interval_s  the sampler's period (observe.SAMPLE_INTERVAL); gap_after_s: a sample later than
              that after the one before it starts a new entry, and the replay calls the time between a gap
  codes       one letter per state ("." absent, "s" starting: no state yet)
  pids        the backends, in the order they were first sampled: lane i is pids[i]
  samples     [[t_first, t_last, samples, states], ...]: states has one letter per pid
  events      [[t, "opened" | "closed" | "refused" | "fatal", pid], ...] from the server's log
  windows     [{"label", "from_s", "to_s"}]: the case's own phases (a pool size, a pause)
  config      the settings the case ran with, as labels to show ({"pool max": 4})

The log's server timestamps are placed by the server's clock read in the first sample's query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from harness.observe import SAMPLE_INTERVAL, ActivityTimeline, LogRecord

ABSENT = "."
OTHER = "?"
STATE_CODES = {"": "s", "idle": "i", "active": "a", "idle in transaction": "t",
               "idle in transaction (aborted)": "x", "fastpath function call": "f", "disabled": "d"}
CODE_NAMES = {ABSENT: "no backend", OTHER: "other state",
              **{code: (state or "starting") for state, code in STATE_CODES.items()}}
REFUSED = "53300"   # too_many_connections
GAP_AFTER_S = 4 * SAMPLE_INTERVAL


def _lanes(timeline: ActivityTimeline) -> tuple[list[int], list[list[Any]]]:
    pids: list[int] = []
    for sample in timeline.samples:
        pids += [pid for pid in sample.by_pid if pid not in pids]
    folded: list[list[Any]] = []
    previous = None
    for sample in timeline.samples:
        states = "".join(STATE_CODES.get(sample.by_pid[pid], OTHER) if pid in sample.by_pid else ABSENT for pid in pids)
        t = round(sample.t, 3)
        after_gap = previous is not None and sample.t - previous > GAP_AFTER_S
        previous = sample.t
        if folded and folded[-1][3] == states and not after_gap:
            folded[-1][1] = t
            folded[-1][2] += 1
        else:
            folded.append([t, t, 1, states])
    return pids, folded


def _event(record: LogRecord) -> str | None:
    if record.severity == "FATAL":
        return "refused" if record.state_code == REFUSED else "fatal"
    if record.message.startswith("connection authorized"):
        return "opened"
    if record.message.startswith("disconnection"):
        return "closed"
    return None


def activity_record(timeline: ActivityTimeline, log: Iterable[LogRecord],
                    windows: Mapping[str, tuple[datetime, datetime]] | None = None,
                    config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The replay's record of one case; `windows` are the case's phases on the server's clock."""
    pids, folded = _lanes(timeline)
    anchor = next((s for s in timeline.samples if s.server_clock is not None), None)

    def on_samples_clock(when: datetime) -> float | None:
        if anchor is None or anchor.server_clock is None:
            return None
        return round(anchor.t + (when - anchor.server_clock.replace(tzinfo=None)).total_seconds(), 3)

    events = []
    for record in log:
        kind, t = _event(record), on_samples_clock(record.timestamp)
        if kind is not None and t is not None:
            events.append([t, kind, record.pid])
    placed = []
    for label, (since, until) in (windows or {}).items():
        start, end = on_samples_clock(since), on_samples_clock(until)
        if start is not None and end is not None:
            placed.append({"label": label, "from_s": start, "to_s": end})
    return {"interval_s": SAMPLE_INTERVAL, "gap_after_s": GAP_AFTER_S, "codes": CODE_NAMES, "pids": pids,
            "samples": folded, "events": sorted(events), "windows": placed, "config": dict(config or {})}
