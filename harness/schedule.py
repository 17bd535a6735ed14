"""How a parallel run is laid out: how many workers, and which cases go together.

The default number of workers is the machine's cores (at most MAX_DEFAULT_JOBS): most of a case
is waiting (for a pool's idle timeout, a sleep, a connection), so cases overlap well, and one
worker a core keeps the CPU-heavy ones (a JVM starting, the pool-sizing story's CPU half) from
being oversubscribed. A case that restarts the server still runs alone (harness.gate).

The unit of work is a lane: some of one example's cases, run in spec order by one worker, as a
role of their own (ex_<id> for the first lane, ex_<id>_l2 ...). Cases of one lane share its role,
whose connection limit and hostssl membership a case may change; two lanes never share one, so
an example's cases can run side by side with the server's record still attributed exactly.
An example gets a second lane only when its cases alone would be longer than a fair share of the
run: then its long waits (HikariCP's 10 s idle-timeout floor) overlap its other cases instead of
sitting on the run's critical path. What a case costs is read from the last results.json when
there is one (else every case counts the same), and the longest lanes start first."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.manifest import Example

MAX_DEFAULT_JOBS = 4
UNKNOWN_CASE_SECONDS = 1.0


def default_jobs(cpu_count: int | None = None) -> int:
    """Workers when the command line does not say (-j N overrides; -j 1 is serial)."""
    cores = cpu_count if cpu_count is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                                      else os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_JOBS, cores))


def case_seconds(results_path: Path) -> dict[str, float]:
    """'<id>::<scenario>' -> seconds, from an earlier run's results.json ({} when there is none)."""
    try:
        document = json.loads(results_path.read_text())
        return {f"{e['id']}::{s['name']}": float(s.get("seconds") or 0.0)
                for e in document.get("examples", []) for s in e.get("scenarios", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


@dataclass(frozen=True)
class Lane:
    example: Example
    names: tuple[str, ...]   # in spec order
    index: int               # 0: the example's own role; n: its n+1-th
    seconds: float           # expected


def lanes(plan: Sequence[tuple[Example, Sequence[str]]], jobs: int, seconds: Mapping[str, float]) -> list[Lane]:
    """The plan cut into lanes, longest first. With one worker every example is one lane."""
    def cost(example: Example, name: str) -> float:
        if name not in example.applies:
            return 0.0   # not applicable or not declared: judged without running
        return seconds.get(f"{example.id}::{name}", UNKNOWN_CASE_SECONDS)

    total = sum(cost(e, n) for e, names in plan for n in names)
    fair_share = total / max(1, jobs)
    out: list[Lane] = []
    for example, names in plan:
        mine = sum(cost(example, n) for n in names)
        count = 1 if jobs <= 1 else max(1, min(jobs, len(names), int(mine // fair_share) + (mine > fair_share)))
        # Longest case first into the lightest lane; each lane then runs in spec order.
        buckets: list[list[str]] = [[] for _ in range(count)]
        loads = [0.0] * count
        for name in sorted(names, key=lambda n: -cost(example, n)):
            lightest = loads.index(min(loads))
            buckets[lightest].append(name)
            loads[lightest] += cost(example, name)
        order = {name: i for i, name in enumerate(names)}
        out += [Lane(example, tuple(sorted(b, key=order.__getitem__)), i, load)
                for i, (b, load) in enumerate(zip(buckets, loads)) if b]
    return sorted(out, key=lambda lane: -lane.seconds)
