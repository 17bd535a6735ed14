"""Signals that end a run: SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) all take
the same way out, a KeyboardInterrupt, so every `finally` stops what the run started. While
the run cleans up, further signals wait: a second Ctrl-C must not cut the clean-up short and
leave the temp dir behind."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def install(signals: tuple[int, ...] = ENDING_SIGNALS) -> None:
    """Every ending signal raises KeyboardInterrupt (also a SIGINT that a shell without job
    control started us with ignored)."""
    for signum in signals:
        signal.signal(signum, _as_interrupt)


def settled() -> None:
    """The run has cleaned up and only says so: a further Ctrl-C must not turn its exit code 2 into
    a death by SIGINT halfway through the last line."""
    for signum in ENDING_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


@contextmanager
def deferred() -> Iterator[None]:
    """Ending signals received inside are held and re-raised (as one KeyboardInterrupt) after it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda s, _f: received.append(s)) for signum in ENDING_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received and previous[signal.SIGINT] is not signal.SIG_IGN:
        raise KeyboardInterrupt(f"signal {received[0]} during clean-up")
