"""Case databases made ahead, and dropped behind, off the cases' path.

CREATE DATABASE from the template copies the whole catalog (about 0.25-0.5 s on two busy
cores), DROP DATABASE a tenth of that: together they were the largest cost of a case beyond
its process. A thread keeps a few spare databases made from the template ready (no one can
connect to them: CONNECT is revoked), a case renames one to its own name (instant), and its
database is dropped by the same thread afterwards. The case still gets a database nobody has
used, made from the same template; pg_stat_statements and the server log tell databases apart
by their oid and their name at the time, so a spare carries nothing of another case.

The thread does its work holding the run's gate as a shared case does, so a case that restarts
the server never meets a CREATE DATABASE halfway. A case never waits for the thread: with no
spare ready it makes its database itself, as before."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import psycopg

from harness.gate import GateClosed

SPARE_PREFIX = "harness_spare_"
RETRY_SECONDS = 0.2


class SpareDatabases:
    def __init__(self, create: Callable[[str], None], drop: Callable[[str], None], ready: int = 2,
                 hold: Callable[[], AbstractContextManager[object]] | None = None) -> None:
        self._create = create        # name -> a new database from the template, CONNECT revoked
        self._drop = drop            # name -> DROP DATABASE IF EXISTS ... WITH (FORCE)
        self._ready_target = ready
        self._hold = hold or nullcontext
        self._ready: list[str] = []
        self._to_drop: list[str] = []
        self._names = itertools.count(1)
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._busy: str | None = None   # the database the thread is making or dropping now

    def take(self) -> str | None:
        """A spare's name (the caller renames it), or None when none is ready yet."""
        with self._cond:
            self._start()
            name = self._ready.pop(0) if self._ready else None
            self._cond.notify_all()
        return name

    def drop_later(self, name: str) -> None:
        with self._cond:
            self._start()
            self._to_drop.append(name)
            self._cond.notify_all()

    def close(self) -> list[str]:
        """Stops the thread; returns the databases it did not get to drop (the spares among them)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._cond:
            left, self._ready, self._to_drop = self._ready + self._to_drop, [], []
        return left

    def _start(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._loop, name="spare-databases", daemon=True)
            self._thread.start()

    def claim(self, name: str) -> None:
        """A case is about to make `name` again: a drop of it still queued must not hit the new one."""
        with self._cond:
            if name in self._to_drop:
                self._to_drop.remove(name)
            while self._busy == name:
                self._cond.wait()

    def _work_waiting(self) -> bool:
        return bool(self._to_drop) or len(self._ready) < self._ready_target

    def _pop_job(self) -> tuple[str, str] | None:
        if self._to_drop:
            return "drop", self._to_drop.pop(0)
        if len(self._ready) < self._ready_target:
            return "create", f"{SPARE_PREFIX}{next(self._names)}"
        return None

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._work_waiting():
                    self._cond.wait()
                if self._closed:
                    return
            # The gate first, then the job: a job is only ever in hand while the gate is held,
            # so claim() (from a case, inside the gate) never waits for a thread that waits for it.
            try:
                with self._hold():
                    with self._cond:
                        job = None if self._closed else self._pop_job()
                        self._busy = job[1] if job else None
                    if job is not None:
                        self._do(*job)
                    with self._cond:
                        self._busy = None
                        self._cond.notify_all()
            except GateClosed:
                return   # the run is ending: what is left goes with the server

    def _do(self, kind: str, name: str) -> None:
        try:
            (self._drop if kind == "drop" else self._create)(name)
        except psycopg.Error:
            # The server restarts in some scenarios, or is going away: try again shortly.
            with self._cond:
                self._to_drop.append(name)   # a spare that failed halfway is dropped too
                self._cond.wait(RETRY_SECONDS)
            return
        if kind == "create":
            with self._cond:
                self._ready.append(name)
