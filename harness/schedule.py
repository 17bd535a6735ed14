"""How a parallel run is laid out: how many workers, and which cases go together.

Most of a case is waiting (for a pool's idle timeout, a sleep, a connection), so cases overlap
well; what must not be oversubscribed is the CPU (a JVM starting, the pool-sizing story's CPU
half). So the default runs up to WORKERS_PER_CORE workers a core (at most MAX_DEFAULT_JOBS), and the
gate (harness.gate) admits a case only while the cases running keep at most `cores` cores busy,
each weighed by what it was measured to use the last time (harness.case_costs, this machine's
over the shipped ones): the share of a core its processes kept busy, plus the CPU seconds a case
costs beyond them (the harness's work for it, the server's for its connections, a
container's start) spread over the case's seconds. A case measured nowhere weighs a whole core. A
case that restarts the server still runs alone (harness.gate).

Which case runs next: the longest one known (longest-processing-time first, the classic list
schedule), after the cases that restart the server (alone at the start, they hold nobody up).
A case logs in as one of its example's roles (ex_<id>, ex2_<id> ...), and a role serves one case
at a time: a case may change its role's connection limit and hostssl membership, and the
server's record is attributed by role. An example gets more roles only when its cases alone
would be longer than a fair share of the run: then its long waits (HikariCP's 10 s idle-timeout
floor) overlap its other cases instead of sitting on the run's critical path."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from harness.case_costs import CaseCosts, key
from harness.gate import CaseGate, GateClosed
from harness.manifest import Example
from harness.pooler import Topology
from harness.process import allow_starts, interrupt_all

WORKERS_PER_CORE = 4
MAX_DEFAULT_JOBS = 8
UNKNOWN_CASE_SECONDS = 1.0
# After an interrupt: how long the workers get to end their cases (their processes are TERMed,
# then KILLed 2 s later) before the session's clean-up goes on without them.
STOP_WORKERS_SECONDS = 15.0
# What a case costs the machine beyond its example's processes, in CPU seconds: the harness's work
# for it, the server's for its connections, on docker its container's start. Measured: about
# 0.18 s natively and 0.33 s on docker for a short case (18 libpqxx cases one at a time, against
# one), part of it (the case database's creation and drop) outside the case's own seconds. In
# interleaved A/B runs 0.12 gave the shortest default runs on both backends (native: 0.06, 0.12,
# 0.17; docker: 0.12 against 0.24 in 4 pairs out of 4).
CASE_CPU_SECONDS = 0.12
# The shortest case a weight is spread over: below it, the per-case cost alone would pass a core.
SHORTEST_CASE_SECONDS = 0.05


def cores(cpu_count: int | None = None) -> int:
    if cpu_count is not None:
        return cpu_count
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def default_jobs(cpu_count: int | None = None) -> int:
    """Workers when the command line does not say (-j N overrides; -j 1 is serial)."""
    return max(1, min(MAX_DEFAULT_JOBS, WORKERS_PER_CORE * cores(cpu_count)))


def cpu_weights(costs: CaseCosts, declared: Mapping[str, float],
                case_cpu_seconds: float = CASE_CPU_SECONDS) -> dict[str, float]:
    """'<id>::<scenario>' -> the cores a running case is expected to keep busy, in any topology: its
    direct run's measured share (else a pooled run's), plus `case_cpu_seconds` (what a case costs
    beyond its processes) over its measured seconds, at most a core; at least what its scenario
    declares (`cpu_cores`, by scenario name). The cost beyond the processes is fixed per case, not
    a share of each second: a case waiting out a 10 s idle timeout costs the harness what a 0.1 s
    one does, and weighing it by the second held back room the machine had."""
    shares: dict[str, float] = {}
    for k, share in sorted(costs.cpu_share.items(), key=lambda item: "@" not in item[0]):
        shares[k.split("@", 1)[0]] = share   # the direct run's, sorted last, wins
    seconds = case_seconds(costs)

    def weight(k: str, share: float) -> float:
        spread = case_cpu_seconds / max(SHORTEST_CASE_SECONDS, seconds.get(k, UNKNOWN_CASE_SECONDS))
        return max(min(1.0, share + spread), declared.get(k.split("::", 1)[1], 0.0))

    return {k: weight(k, share) for k, share in shares.items()}


def case_seconds(costs: CaseCosts) -> dict[str, float]:
    """'<id>::<scenario>' -> seconds of its direct run, the last time it ran on this backend."""
    return {k: s for k, s in costs.seconds.items() if "@" not in k}


def expected_seconds(example: Example, name: str, seconds: Mapping[str, float]) -> float:
    """What the case is expected to take: its last measured seconds (UNKNOWN_CASE_SECONDS if never
    measured); 0 when it does not run (not applicable or not declared: judged without running)."""
    if name not in example.applies:
        return 0.0
    return seconds.get(key(example.id, name), UNKNOWN_CASE_SECONDS)


def roles_for(plan: Sequence[tuple[Example, Sequence[str]]], jobs: int, seconds: Mapping[str, float]) -> dict[str, int]:
    """How many roles (cases at once) each example gets: one, or more when its cases alone would be
    longer than a fair share of `jobs` workers."""
    total = sum(expected_seconds(e, n, seconds) for e, names in plan for n in names)
    fair_share = total / max(1, jobs) or 1.0
    out = {}
    for example, names in plan:
        mine = sum(expected_seconds(example, n, seconds) for n in names)
        out[example.id] = 1 if jobs <= 1 else max(1, min(jobs, len(names), int(mine // fair_share) + (mine % fair_share > 0)))
    return out


@dataclass(frozen=True)
class Case:
    example: Example
    name: str
    topology: Topology
    seconds: float      # expected
    exclusive: bool     # restarts the server: runs alone (harness.gate)


def ordered(cases: Sequence[Case]) -> list[Case]:
    """The restart cases first, then the longest first; ties keep the plan's order."""
    return sorted(cases, key=lambda c: (not c.exclusive, -c.seconds))


class CaseQueue:
    """Hands each worker the first case (in `ordered` order) whose example has a role free, and
    that role's index; None once every case is handed out (or stop() was called).

    With a gate: while a case waits in the gate's line (it does not fit beside the running ones),
    a worker is handed only a case that backfills (CaseGate.first_to_backfill: it fits now and ends
    before the first in line could start), however far down the order, or nothing until that
    changes. So one case waits in line, and the short ones at the end of the order fill the room
    a long story leaves, instead of every worker queueing behind it with the next longest cases."""

    RECHECK_SECONDS = 0.05   # how often a held-back worker asks the gate again

    def __init__(self, cases: Sequence[Case], roles: Mapping[str, int], gate: CaseGate | None = None,
                 restarts_over: threading.Event | None = None) -> None:
        self._pending = ordered(cases)
        self._free = {example_id: list(range(count)) for example_id, count in roles.items()}
        self._gate = gate
        self._cond = threading.Condition()
        self._stopped = False
        # Set once no case that restarts the server is pending or running (collect_matrix sets it
        # too when the run ends before its queue does): harness work that holds the gate beside the cases waits for it, not to hold them up.
        self.restarts_over = restarts_over or threading.Event()
        self._restarts_left = sum(case.exclusive for case in cases)
        if not self._restarts_left:
            self.restarts_over.set()

    def take(self) -> tuple[Case, int] | None:
        with self._cond:
            while True:
                if self._stopped or not self._pending:
                    return None
                startable = [i for i, case in enumerate(self._pending) if self._free.get(case.example.id)]
                if startable and self._gate is not None and self._gate.someone_waits():
                    startable = [i for i in startable if not self._pending[i].exclusive]
                    first = self._gate.first_to_backfill([key(self._pending[i].example.id, self._pending[i].name)
                                                          for i in startable])
                    if first is None:
                        self._cond.wait(self.RECHECK_SECONDS)
                        continue
                    startable = startable[first:]
                if startable:
                    case = self._pending.pop(startable[0])
                    return case, self._free[case.example.id].pop(0)
                self._cond.wait()

    def done(self, case: Case, role: int) -> None:
        with self._cond:
            if case.exclusive:
                self._restarts_left -= 1
                if not self._restarts_left:
                    self.restarts_over.set()
            self._free[case.example.id].append(role)
            self._free[case.example.id].sort()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def interrupt(self) -> None:
        """stop(), and a case waiting for its turn at the server does not get one (GateClosed)."""
        self.stop()
        if self._gate is not None:
            self._gate.close()


def work_through(queue: CaseQueue, workers: int, run: Callable[[Case, int], bool]) -> None:
    """`workers` threads take cases until the queue is empty; run() returning False stops them all."""
    def worker(finished: threading.Event) -> None:
        try:
            while (taken := queue.take()) is not None:
                case, role = taken
                try:
                    keep_going = run(case, role)
                except GateClosed:
                    return   # interrupted while it waited for its turn: the case never started
                finally:
                    queue.done(case, role)
                if not keep_going:
                    queue.stop()
        finally:
            finished.set()

    allow_starts()
    # Waited for by events of their own, not Thread.join: a join that a Ctrl-C interrupts leaves
    # the thread marked as stopped on Python 3.11 (is_alive() False, later joins return at once)
    # while it still runs its case.
    finished = [threading.Event() for _ in range(workers)]
    threads = [threading.Thread(target=worker, args=(done,), name=f"case-worker-{i + 1}", daemon=True)
               for i, done in enumerate(finished)]
    for thread in threads:
        thread.start()
    try:
        for done in finished:
            done.wait()
    except BaseException:
        # Ctrl-C (only this thread gets it): no case starts, the running ones are ended, and the
        # session's clean-up runs once they have let go of the server.
        queue.interrupt()
        interrupt_all()
        deadline = time.monotonic() + STOP_WORKERS_SECONDS
        for done in finished:
            done.wait(timeout=max(0.0, deadline - time.monotonic()))
        busy = [thread for thread, done in zip(threads, finished) if not done.is_set()]
        if busy:
            print(threads_report(busy, f"still busy {STOP_WORKERS_SECONDS:.0f} s after the interrupt "
                                       "(the clean-up goes on without them)"), file=sys.stderr, flush=True)
        raise


def threads_report(threads: Sequence[threading.Thread], what: str) -> str:
    """Where each thread is: what a run that does not end in time prints, to be fixed from."""
    frames = sys._current_frames()
    lines = [f"harness: {len(threads)} thread(s) {what}:"]
    for thread in threads:
        frame = frames.get(thread.ident or -1)
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "  (no stack)\n"
        lines.append(f"-- {thread.name}\n{stack.rstrip()}")
    return "\n".join(lines)
