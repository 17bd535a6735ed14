"""Cases share one server; a case that restarts it must run alone. A readers-writer gate:
shared cases run side by side, an exclusive case waits for them to finish and holds new ones
back until it is done.

In a parallel run the gate also keeps the CPU from being oversubscribed: each shared case weighs
the share of a core it is known to keep busy (harness.schedule), and a case waits while the
weights already running would pass the budget (the machine's cores). A case mostly waiting (an
idle timeout, a sleep) weighs little, so many overlap; a JVM starting weighs a whole core. One
case always runs, however heavy. Cases are admitted in the order they arrive: light ones slipping
past would starve a heavy one, and the arrival order is the schedule's (longest first)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager


class CaseGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._exclusive = False
        self._exclusive_waiting = 0
        self._budget: float | None = None   # None: no CPU budget (a serial run, or the caller's own limit)
        self._load = 0.0
        self._weights: Mapping[str, float] = {}
        self._tickets = itertools.count()
        self._next = 0   # the ticket admitted next
        self._abandoned: set[int] = set()   # tickets whose holder stopped waiting (interrupted)

    def limit_cpu(self, budget: float | None, weights: Mapping[str, float]) -> None:
        """Budget in cores (None: no limit) for the shared cases' weights, by case (an unknown
        case weighs a whole core)."""
        with self._cond:
            self._budget, self._weights = budget, weights
            self._cond.notify_all()

    def _pass_abandoned(self) -> None:
        while self._next in self._abandoned:
            self._abandoned.discard(self._next)
            self._next += 1
        self._cond.notify_all()

    def _fits(self, weight: float) -> bool:
        return self._budget is None or not self._active or self._load + weight <= self._budget + 1e-9

    @contextmanager
    def shared(self, case: str = "") -> Iterator[None]:
        with self._cond:
            weight = self._weights.get(case, 1.0)
            ticket = next(self._tickets)
            try:
                while ticket != self._next or self._exclusive or self._exclusive_waiting or not self._fits(weight):
                    self._cond.wait()
            except BaseException:
                self._abandoned.add(ticket)
                self._pass_abandoned()
                raise
            self._next += 1
            self._pass_abandoned()
            self._active += 1
            self._load += weight
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._load = max(0.0, self._load - weight) if self._active else 0.0
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._exclusive_waiting += 1
            while self._exclusive or self._active:
                self._cond.wait()
            self._exclusive_waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()

    def enter(self, exclusive: bool, case: str = "") -> AbstractContextManager[None]:
        """case: '<example id>::<scenario>', what its weight is known by."""
        return self.exclusive() if exclusive else self.shared(case)
