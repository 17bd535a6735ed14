"""Nothing an example starts outlives its case.

Natively each case (and each build) runs as PID 1's child in a PID namespace of its own
(`unshare --pid --fork --kill-child --mount-proc`, with harness/sandbox_init.py as PID 1): when
the example's process exits, PID 1 lists what is still running, writes it down and exits, and
the kernel kills the rest, daemons that double-forked included. `setpriv --pdeathsig KILL`
ties the namespace to the harness: if the harness itself is killed, so is every case.

Where namespaces are not available (not root and no user namespaces), every process of a case
carries a marker in its environment; after the case whatever still carries it is killed and
named. That misses a process that clears its environment, which the run says once."""

from __future__ import annotations

import itertools
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from harness import reaper, scratch
from harness.process import starts_refused

INIT = Path(__file__).with_name("sandbox_init.py")
CASE_MARKER_VARIABLE = "HARNESS_CASE_MARKER"
NOT_STARTED_REPORT = "pg-harness-never-written.json"   # a case refused after a Ctrl-C: no report comes
DISABLE_VARIABLE = "HARNESS_SANDBOX"  # =none: run without namespaces (tests of the fallback)
UNSHARE_VARIANTS = (
    ("--pid", "--fork", "--kill-child", "--mount-proc"),
    # Not root: a user namespace of its own, mapped to the caller's uid.
    ("--user", "--map-current-user", "--pid", "--fork", "--kill-child", "--mount-proc"),
)


@cache
def namespace_flags(disabled: bool = False) -> tuple[tuple[str, ...] | None, str]:
    """The unshare flags that work here, or None and why not (decided once per process)."""
    if disabled:
        return None, f"{DISABLE_VARIABLE}=none"
    if shutil.which("unshare") is None:
        return None, "unshare (util-linux) is not on PATH"
    reason = ""
    for flags in UNSHARE_VARIANTS:
        try:
            probe = subprocess.run(["unshare", *flags, "true"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = str(exc)
            continue
        if probe.returncode == 0:
            return flags, ""
        reason = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
    return None, f"unshare failed: {reason}"


@dataclass
class CaseSandbox:
    """One process tree: wraps its argv, marks its environment, and afterwards says what is left."""

    flags: tuple[str, ...] | None
    run_marker: str
    report: Path
    marker: str = field(default_factory=lambda: secrets.token_hex(8))

    def wrap(self, argv: Sequence[str]) -> list[str]:
        if self.flags is None:
            return list(argv)
        prefix = ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []
        return [*prefix, "unshare", *self.flags, "--", sys.executable, "-I", "-S", str(INIT), str(self.report), *argv]

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        return {**env, reaper.MARKER_VARIABLE: self.run_marker, CASE_MARKER_VARIABLE: self.marker}

    def finish(self) -> tuple[int | None, list[str], float | None]:
        """(the example's own exit code when PID 1 saw it, what was left running, now killed, and
        the CPU seconds its processes used: None without a namespace)."""
        exit_code: int | None = None
        cpu: float | None = None
        left: list[str] = []
        try:
            first, *left = self.report.read_text().splitlines()  # harness/sandbox_init.py's report
            code, seconds = first.split()
            exit_code, cpu = int(code), float(seconds)
        except (OSError, ValueError):
            left = []
        finally:
            self.report.unlink(missing_ok=True)
        if self.flags is None:
            # No namespace: the marker finds what is left. (Nothing leaves a PID namespace.)
            left += reaper.kill_marked(self.marker, CASE_MARKER_VARIABLE)
        return exit_code, left, cpu


class Sandbox:
    """Per run: the namespace decision, a directory for the cases' reports (with owner.json, so
    that a later run reaps this run's processes if it is killed), and the notice, said once."""

    def __init__(self, disabled: bool = False) -> None:
        # disabled: HARNESS_SANDBOX=none (Config.sandbox_disabled), for tests of the fallback.
        self.flags, self.why_not = namespace_flags(disabled)
        self.run_marker = secrets.token_hex(8)
        self._dir: Path | None = None
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._notice_given = False

    def notice(self) -> str:
        """Once per run, when cases cannot have a namespace of their own; '' otherwise."""
        with self._lock:
            if self.flags is not None or self._notice_given:
                return ""
            self._notice_given = True
        return (f"note: no PID namespace for the cases ({self.why_not}); a process an example leaves behind "
                "is found by its environment marker, which it can clear. Run as root (or allow user "
                "namespaces) for full containment, or use --backend docker.")

    def case(self) -> CaseSandbox:
        with self._lock:
            if self._dir is None and starts_refused():
                # A case thread still finishing after a Ctrl-C: its process is never started
                # (harness.process), so no directory is made for its report, maybe after the clean-up.
                return CaseSandbox(self.flags, self.run_marker, scratch.parent() / NOT_STARTED_REPORT)
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix=reaper.RUN_PREFIX + "cases-", dir=scratch.parent()))
                reaper.record_owner(self._dir, kind="cases", marker=self.run_marker)
            report = self._dir / f"case-{next(self._counter)}.json"
        return CaseSandbox(self.flags, self.run_marker, report)

    def cleanup(self) -> list[str]:
        """Kills whatever of this run still runs (there should be nothing) and removes the directory."""
        left = reaper.kill_marked(self.run_marker)
        with self._lock:
            directory, self._dir = self._dir, None
        if directory is not None:
            remove_tree(directory)
            reaper.forget(directory)
        return left


def remove_tree(directory: Path, within: float = 2.0) -> None:
    """rmtree, again while something still writes into it (a case's PID 1 writing its report as
    it is killed): ignore_errors alone leaves the directory when a file appears mid-way."""
    deadline = time.monotonic() + within
    while True:
        shutil.rmtree(directory, ignore_errors=True)
        if not directory.exists() or time.monotonic() >= deadline:
            return
        time.sleep(0.05)


def leftover_problems(leftovers: list[str], stdout_held: bool, backends: list[str]) -> list[str]:
    """The case's verdict on what its example left behind (all of it is gone by now)."""
    problems = []
    if leftovers:
        problems.append(f"left {len(leftovers)} process(es) running after it exited (killed by the harness): "
                        + "; ".join(leftovers[:5]))
    elif stdout_held:
        problems.append("something it started kept stdout open after it exited")
    if backends:
        problems.append(f"left {len(backends)} database connection(s) open after it exited (terminated by the "
                        "harness): " + "; ".join(backends[:5]))
    return problems


def run_notes(executor: object) -> list[str]:
    """Said once at the start of a run: what earlier, killed runs left and was removed now, and
    whether cases get a namespace of their own."""
    notes = [f"reaped {line}" for line in reaper.reap_dead_runs()]
    sandbox = getattr(executor, "sandbox", None)
    if isinstance(sandbox, Sandbox):
        notice = sandbox.notice()
        if notice:
            notes.append(notice)
    return notes


def after_run(executor: object, run_id: str, backend: str) -> str:
    """One line for the end of a run: what of it is left after the clean-up (there should be nothing)."""
    sandbox = getattr(executor, "sandbox", None)
    left = reaper.audit(sandbox.run_marker if isinstance(sandbox, Sandbox) else None,
                        run_id if backend == "docker" else None)
    if not left:
        return "clean-up: nothing of this run is left (no process, temp dir, server, backend or container)"
    return "clean-up: LEFT BEHIND: " + "; ".join(left)
