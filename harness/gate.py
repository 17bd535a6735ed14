"""Cases share one server; a case that restarts it must run alone. A readers-writer gate:
shared cases run side by side, an exclusive case waits for them to finish and holds new ones
back until it is done.

In a parallel run the gate also keeps the CPU from being oversubscribed: each shared case weighs
the share of a core it is known to keep busy (harness.schedule), and a case waits while the
weights already running would pass the budget (the machine's cores). A case mostly waiting (an
idle timeout, a sleep) weighs little, so many overlap; a JVM starting weighs a whole core. One
case always runs, however heavy.

Cases are admitted in the order they arrive (the schedule's: longest first), with one exception,
EASY backfilling as batch schedulers do it: while the first case in line does not fit, a later
one that fits now may start if it is expected to end (by its last measured seconds) before the
running cases free enough room for the first one. It uses room the first case could not use
anyway, so it never delays it (unless it overruns its estimate); a case never measured never
backfills. The budget holds for backfilled cases too: a story's declared cores stay its own.

Once the run is ending (interrupted, or the session closing) the gate closes: whoever waits in
line, and whoever comes later, gets GateClosed instead of a turn.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager


class GateClosed(Exception):
    """The run is ending: no case (and no housekeeping) gets a turn at the server any more."""


class CaseGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._closed = False
        self._active = 0
        self._exclusive = False
        self._exclusive_waiting = 0
        self._budget: float | None = None   # None: no CPU budget (a serial run, or the caller's own limit)
        self._load = 0.0
        self._weights: Mapping[str, float] = {}
        self._seconds: Mapping[str, float] = {}
        self._tickets = itertools.count()
        self._waiting: dict[int, tuple[float, float]] = {}   # ticket -> (weight, expected seconds)
        self._running: dict[int, tuple[float, float]] = {}   # ticket -> (weight, expected end)

    def limit_cpu(self, budget: float | None, weights: Mapping[str, float],
                  seconds: Mapping[str, float] | None = None) -> None:
        """Budget in cores (None: no limit) for the shared cases' weights, by case (an unknown
        case weighs a whole core); `seconds`: what each case is expected to take (for backfilling)."""
        with self._cond:
            self._budget, self._weights, self._seconds = budget, weights, seconds or {}
            self._cond.notify_all()

    def close(self) -> None:
        """Wakes everyone in line with GateClosed; who holds the gate keeps it until done."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def reopen(self) -> None:
        with self._cond:
            self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def _wait_for_turn(self) -> None:
        if self._closed:
            raise GateClosed("the run is ending")
        self._cond.wait()

    def _fits(self, weight: float) -> bool:
        return self._budget is None or not self._active or self._load + weight <= self._budget + 1e-9

    def _head_free_at(self, head_weight: float) -> float:
        """When the running cases, ending as expected, leave room for the first case in line."""
        assert self._budget is not None
        free, when = self._budget - self._load, time.monotonic()
        for weight, end in sorted(self._running.values(), key=lambda r: r[1]):
            if free + 1e-9 >= head_weight:
                break
            free, when = free + weight, max(when, end)
        return when

    def someone_waits(self) -> bool:
        """A case (or a restart) is waiting in line: what comes next should backfill, or wait."""
        with self._cond:
            return bool(self._waiting) or self._exclusive_waiting > 0

    def first_to_backfill(self, cases: Sequence[str]) -> int | None:
        """The index of the first of `cases` that, asking now, would pass the first one in line
        (see the module's doc); None if none would, or nobody waits."""
        with self._cond:
            if self._budget is None or not self._waiting or self._exclusive or self._exclusive_waiting:
                return None
            head_free_at = self._head_free_at(self._waiting[min(self._waiting)][0])
            return next((i for i, case in enumerate(cases)
                         if self._backfills(self._weights.get(case, 1.0), self._seconds.get(case, math.inf), head_free_at)),
                        None)

    def _backfills(self, weight: float, seconds: float, head_free_at: float) -> bool:
        """Fits now and ends before the first in line can start; never measured: never backfills."""
        return self._fits(weight) and not math.isinf(seconds) and time.monotonic() + seconds <= head_free_at

    def _admits(self, ticket: int, weight: float, seconds: float) -> bool:
        if self._exclusive or self._exclusive_waiting or not self._fits(weight):
            return False
        head = min(self._waiting)
        if ticket == head:
            return True
        return self._budget is not None and self._backfills(weight, seconds, self._head_free_at(self._waiting[head][0]))

    @contextmanager
    def shared(self, case: str = "", weight: float | None = None, seconds: float | None = None) -> Iterator[None]:
        """weight, seconds: the caller's own (the harness's housekeeping), else the case's measured ones."""
        with self._cond:
            weight = self._weights.get(case, 1.0) if weight is None else weight
            seconds = self._seconds.get(case, math.inf) if seconds is None else seconds
            ticket = next(self._tickets)
            self._waiting[ticket] = (weight, seconds)
            try:
                while self._closed or not self._admits(ticket, weight, seconds):
                    self._wait_for_turn()
            finally:
                del self._waiting[ticket]   # admitted, or interrupted: either way out of the line
                self._cond.notify_all()
            self._active += 1
            self._load += weight
            self._running[ticket] = (weight, time.monotonic() + seconds)
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                del self._running[ticket]
                self._load = max(0.0, self._load - weight) if self._active else 0.0
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._exclusive_waiting += 1
            try:
                while self._closed or self._exclusive or self._active:
                    self._wait_for_turn()
            finally:
                self._exclusive_waiting -= 1
                self._cond.notify_all()   # shared cases held back for it may go (or hear it closed)
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()

    def enter(self, exclusive: bool, case: str = "", weight: float | None = None,
              seconds: float | None = None) -> AbstractContextManager[None]:
        """case: '<example id>::<scenario>', what its weight is known by."""
        return self.exclusive() if exclusive else self.shared(case, weight, seconds)
