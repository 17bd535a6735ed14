"""A line every so often while something slow runs (a cold image build takes minutes): on a
terminal the progress bar shows it, but a CI log would otherwise show nothing meanwhile."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

EVERY_SECONDS = 30.0


@contextmanager
def ticking(what: str, every: float = EVERY_SECONDS) -> Iterator[None]:
    stream = sys.__stderr__
    if stream is None or stream.isatty():
        yield
        return
    stop = threading.Event()
    start = time.monotonic()

    def tick() -> None:
        while not stop.wait(every):
            stream.write(f"still {what} ({time.monotonic() - start:.0f} s)\n")
            stream.flush()

    thread = threading.Thread(target=tick, name="ticker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1)
