"""Runs one example process for one case: its own process group (a timeout kills children too)
and, natively, its own PID namespace (harness.sandbox), bounded capture of stdout and stderr,
and the checkpoint protocol on stdin/stdout. The deadline holds whatever the example does:
replies on stdin never block (an example that does not read them cannot stall the harness),
and a process it left holding stdout after it exited does not keep the case open."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.backends.base import Confinement

MAX_STDOUT_BYTES = 1024 * 1024
MAX_LINE_BYTES = 256 * 1024
STDERR_TAIL_BYTES = 64 * 1024
STDERR_HEAD_BYTES = 16 * 1024
KILL_GRACE_SECONDS = 2.0
# After the example's own process exited, how long stdout may stay open (a child still writing)
# before the case stops waiting for it.
LINGER_SECONDS = 1.0
MAX_CHECKPOINTS = 100
MAX_PENDING_REPLY_BYTES = 64 * 1024

Checkpoint = Callable[[str], None]

# Every example process running now, whichever thread started it: a Ctrl-C reaches only the main
# thread, which then ends the others' cases too (interrupt_all).
_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()
_INTERRUPTED = threading.Event()   # set: no example process starts any more (until allow_starts)


def allow_starts() -> None:
    _INTERRUPTED.clear()


def starts_refused() -> bool:
    """The run was interrupted: run_process starts nothing more (until allow_starts)."""
    return _INTERRUPTED.is_set()


def interrupt_all() -> None:
    """TERM every running example's process group, and start no new one; each case's own thread
    then finishes its case."""
    with _RUNNING_LOCK:
        _INTERRUPTED.set()
        running = list(_RUNNING)
    for proc in running:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class ProcessRun:
    argv: list[str]
    exit_code: int | None = None
    timed_out: bool = False
    elapsed: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    stderr_head: str = ""  # the first STDERR_HEAD_BYTES; `stderr` is the last STDERR_TAIL_BYTES
    stderr_bytes: int = 0  # how much the example wrote to stderr in all
    stdout_truncated: bool = False
    partial_line: str = ""
    checkpoint_error: str = ""
    start_error: str = ""
    # Processes still running after the example's own process exited (killed by the harness).
    leftovers: list[str] = field(default_factory=list)
    stdout_held: bool = False  # it exited, but something it started kept stdout open
    checkpoints: int = 0
    # CPU seconds (user + system) of the example and every process it started; None when unknown
    # (no PID namespace, or a container). What harness.schedule weighs a case by.
    cpu_seconds: float | None = None
    # Seconds from the start until the result line arrived, and until the process had exited.
    result_at: float | None = None
    exited_at: float | None = None
    started_wall: float = 0.0  # time.time() at the start, to set the above against the server's log

    @property
    def exited_wall(self) -> float | None:
        return None if self.exited_at is None else self.started_wall + self.exited_at

    @property
    def exit_after_result(self) -> float | None:
        """How long the program took to exit once it had printed its result."""
        if self.result_at is None or self.exited_at is None:
            return None
        return max(0.0, self.exited_at - self.result_at)

    @property
    def results(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == "result"]

    def stderr_tail(self, lines: int = 25) -> str:
        return "\n".join(self.stderr.rstrip().splitlines()[-lines:])


def _command_argv(command: str | Sequence[str]) -> list[str]:
    return ["sh", "-c", command] if isinstance(command, str) else list(command)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """TERM the whole group, then KILL what is left: children of the example die too."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone, but members of its group may live on.
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return


class _StdoutReader(threading.Thread):
    """Splits stdout into lines, keeps at most MAX_STDOUT_BYTES, hands each line to a queue."""

    def __init__(self, stream: IO[bytes], lines: "queue.Queue[bytes | None]") -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines = lines
        self.kept = bytearray()
        self.truncated = False
        self.partial = b""

    def run(self) -> None:
        pending = b""
        while True:
            chunk = self.stream.read1(65536) if hasattr(self.stream, "read1") else self.stream.read(65536)
            if not chunk:
                break
            room = MAX_STDOUT_BYTES - len(self.kept)
            self.kept += chunk[:room]
            if len(chunk) > room:
                self.truncated = True
            if room <= 0:
                continue  # keep draining so the example never blocks on a full pipe
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self.lines.put(line[:MAX_LINE_BYTES])
            if len(pending) > MAX_LINE_BYTES:
                self.lines.put(pending[:MAX_LINE_BYTES])
                pending = b""
        # Past the cap the rest of the line was discarded here, not left unfinished by the example.
        self.partial = b"" if self.truncated else pending
        self.lines.put(None)


class _TailReader(threading.Thread):
    """Keeps the first STDERR_HEAD_BYTES (a crash's cause often comes first: Node prints
    "Unhandled 'error' event" above a long dump) and the last STDERR_TAIL_BYTES."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def run(self) -> None:
        while chunk := self.stream.read(65536):
            self.total += len(chunk)
            if len(self.head) < STDERR_HEAD_BYTES:
                self.head += chunk[: STDERR_HEAD_BYTES - len(self.head)]
            self.tail += chunk
            if len(self.tail) > STDERR_TAIL_BYTES:
                del self.tail[: len(self.tail) - STDERR_TAIL_BYTES]


def run_process(
    command: str | Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None,   # None: the harness's own environment
    timeout: float,
    on_checkpoint: Checkpoint | None = None,
    confine: "Confinement | None" = None,
) -> ProcessRun:
    argv = _command_argv(command)
    run = ProcessRun(argv=argv, started_wall=time.time())
    launched = confine.wrap(argv) if confine else argv
    start = time.monotonic()
    if _INTERRUPTED.is_set():
        run.start_error = "not started: the run was interrupted"
        return run
    try:
        proc = subprocess.Popen(launched, cwd=cwd, env=confine.environment(env) if confine else (dict(env) if env is not None else None),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
    except OSError as exc:
        run.start_error = f"could not start {argv[0]!r}: {exc.strerror or exc}"
        return run
    with _RUNNING_LOCK:
        _RUNNING.add(proc)
        if _INTERRUPTED.is_set():   # interrupted while it started: it goes with the others
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
    assert proc.stdin is not None
    os.set_blocking(proc.stdin.fileno(), False)
    replies = _Replies(proc.stdin.fileno())
    lines: queue.Queue[bytes | None] = queue.Queue()
    out = _StdoutReader(proc.stdout, lines)  # type: ignore[arg-type]
    err = _TailReader(proc.stderr)  # type: ignore[arg-type]
    deadline = start + timeout
    exited_seen: float | None = None
    try:
        # Inside the try: a Ctrl-C that lands while the readers start still kills the group.
        out.start()
        err.start()
        while True:
            replies.flush()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                run.timed_out = True
                break
            try:
                raw = lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if proc.poll() is not None:
                    exited_seen = exited_seen or time.monotonic()
                    if time.monotonic() - exited_seen > LINGER_SECONDS:
                        run.stdout_held = True
                        break
                continue
            if raw is None:
                break
            _handle_line(raw, run, replies, on_checkpoint, time.monotonic() - start)
        if not run.timed_out:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                run.exited_at = time.monotonic() - start
            except subprocess.TimeoutExpired:
                run.timed_out = True
    finally:
        kill_group(proc)
        proc.wait()
        with _RUNNING_LOCK:
            _RUNNING.discard(proc)
        if confine is not None:
            own_exit, leftovers, run.cpu_seconds = confine.finish()
            # After a timeout the harness itself ended the group: what PID 1 still saw was dying
            # of that kill (under load, seen a moment before it dies), not left behind by an exit.
            run.leftovers = [] if run.timed_out else leftovers
            if own_exit is not None:
                proc.returncode = own_exit  # PID 1 of the namespace saw the example's own exit
        for reader in (out, err):
            if reader.is_alive():
                reader.join(timeout=0.2 if run.stdout_held else 2)
        for stream, reader in ((proc.stdin, None), (proc.stdout, out), (proc.stderr, err)):
            if reader is not None and reader.is_alive():
                continue  # a process outside our reach still holds it: closing would block on the reader
            try:
                stream.close()  # type: ignore[union-attr]
            except (OSError, BrokenPipeError):
                pass
    run.elapsed = time.monotonic() - start
    run.exit_code = proc.returncode
    run.stdout = bytes(out.kept).decode("utf-8", errors="replace")
    run.stdout_truncated = out.truncated
    run.partial_line = out.partial.decode("utf-8", errors="replace")
    run.stderr = bytes(err.tail).decode("utf-8", errors="replace")
    run.stderr_head = bytes(err.head).decode("utf-8", errors="replace")
    run.stderr_bytes = err.total
    return run


class _Replies:
    """The harness's answers on the example's stdin, written without ever blocking: what the
    pipe does not take now waits for the next turn of the loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""
        self.closed = False

    def send(self, message: dict[str, Any]) -> bool:
        """False when the example has stopped taking replies (it does not read stdin)."""
        if self.closed:
            return True
        self.pending += (json.dumps(message) + "\n").encode()
        self.flush()
        return len(self.pending) <= MAX_PENDING_REPLY_BYTES

    def flush(self) -> None:
        while self.pending and not self.closed:
            try:
                written = os.write(self.fd, self.pending)
            except BlockingIOError:
                return
            except OSError:  # the example closed stdin or exited
                self.closed, self.pending = True, b""
                return
            self.pending = self.pending[written:]


def _handle_line(raw: bytes, run: ProcessRun, replies: _Replies, on_checkpoint: Checkpoint | None,
                 received_at: float) -> None:
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return
    try:
        message = json.loads(text)
    except ValueError:
        run.bad_lines.append(text[:300])
        return
    if not isinstance(message, dict):
        run.bad_lines.append(text[:300])
        return
    run.messages.append(message)
    if message.get("type") == "result":
        run.result_at = received_at
    if message.get("type") != "checkpoint":
        return
    name = str(message.get("name", ""))
    run.checkpoints += 1
    if run.checkpoints > MAX_CHECKPOINTS:
        # No harness action, no reply: an example that floods checkpoints gets nothing more.
        run.checkpoint_error = run.checkpoint_error or f"sent more than {MAX_CHECKPOINTS} checkpoints"
        return
    try:
        if on_checkpoint is not None:
            on_checkpoint(name)
    except Exception as exc:  # noqa: BLE001 - reported as the case's failure, the example goes on
        run.checkpoint_error = f"harness action at checkpoint {name!r} failed: {exc}"
    if not replies.send({"type": "continue", "name": name}) and not run.checkpoint_error:
        run.checkpoint_error = "does not read the harness's replies on stdin (after a checkpoint, read one line)"
