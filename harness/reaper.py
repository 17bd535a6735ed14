"""What a run leaves if it is killed outright (SIGKILL, a crash, a closed laptop), and the next
run's clean-up of it: testcontainers' reaper idea without a container. Every directory a run
makes under the temp dir carries `owner.json` (the owner's pid and its start time, so a reused
pid is not mistaken for the owner) and what to stop: the server's data dir, the marker in the
environment of the run's processes, the run's docker label. A later run reaps a directory only
when its owner is dead; runs that are alive on this machine are never touched."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from harness import scratch

OWNER_FILE = "owner.json"
RUN_PREFIX = "pg-harness-"
MARKER_VARIABLE = "HARNESS_RUN_MARKER"  # in the environment of every process a run starts

_own: set[Path] = set()
_own_lock = threading.Lock()


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def record_owner(directory: Path, **facts: object) -> None:
    """Marks `directory` as this process's, with what a reaper must stop if it dies."""
    owner = {"pid": os.getpid(), "start": start_time(os.getpid()), **facts}
    (directory / OWNER_FILE).write_text(json.dumps(owner))
    with _own_lock:
        _own.add(directory)


def forget(directory: Path) -> None:
    """The directory was removed by its owner."""
    with _own_lock:
        _own.discard(directory)


def left_behind() -> list[Path]:
    """This process's run directories that still exist (an interrupted clean-up)."""
    with _own_lock:
        return sorted(d for d in _own if d.exists())


def owner_alive(owner: dict[str, object]) -> bool:
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return False
    started = start_time(pid)
    return started is not None and started == owner.get("start") and _state(pid) not in ("Z", "X")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"


def processes_with_marker(marker: str, variable: str = MARKER_VARIABLE) -> list[int]:
    """Live processes whose environment carries variable=marker (descendants inherit it)."""
    needle = f"{variable}={marker}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        pid = int(environ.parent.name)
        if pid == os.getpid():
            continue
        try:
            if needle in environ.read_bytes().split(b"\0"):
                found.append(pid)
        except OSError:
            continue
    return [p for p in found if _state(p) not in ("Z", "X")]


def processes_running(path: Path) -> list[int]:
    """Live processes whose command line names `path` (a native PgBouncer names its ini)."""
    needle = str(path).encode()
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if needle in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return [p for p in found if p != os.getpid() and _state(p) not in ("Z", "X")]


def describe(pid: int) -> str:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmdline = "?"
    return f"pid {pid} ({cmdline[:120]})"


def kill_marked(marker: str, variable: str = MARKER_VARIABLE) -> list[str]:
    """SIGKILLs every process carrying the marker; returns what it killed."""
    killed = []
    for pid in processes_with_marker(marker, variable):
        what = describe(pid)
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(what)
        except (ProcessLookupError, PermissionError):
            continue
    return killed


def _stop_postmaster(datadir: Path) -> str:
    try:
        pid = int((datadir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return ""
    if _state(pid) in ("Z", "X"):
        return ""
    try:
        # Only the postmaster of that data dir: a reused pid belongs to someone else.
        if str(datadir) not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            return ""
        os.kill(pid, signal.SIGQUIT)  # immediate shutdown: the backends go with it
        deadline = time.monotonic() + 5
        while _state(pid) not in ("Z", "X") and time.monotonic() < deadline:
            time.sleep(0.05)
        if _state(pid) not in ("Z", "X"):
            os.kill(pid, signal.SIGKILL)
    except (OSError, ProcessLookupError):
        return ""
    return f"PostgreSQL server (postmaster pid {pid})"


def labelled_containers(run_id: str) -> list[str]:
    """Containers carrying the run's docker label (none where there is no docker)."""
    from harness.server.container import RUN_LABEL  # only when docker is there
    if shutil.which("docker") is None:
        return []
    try:
        listed = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}", "--filter", f"label={RUN_LABEL}={run_id}"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return listed.stdout.split() if listed.returncode == 0 else []


def audit(run_marker: str | None, run_id: str | None) -> list[str]:
    """What of this run still exists after its clean-up: its directories, processes carrying its
    marker, containers carrying its label. (Its server, and with it every backend, is in the first.)"""
    left = [f"temp dir {d}" for d in left_behind()]
    if run_marker:
        left += [f"process {describe(p)}" for p in processes_with_marker(run_marker)]
    if run_id:
        left += [f"container {c}" for c in labelled_containers(run_id)]
    return left


def _remove_containers(run_id: str) -> list[str]:
    from harness.server.container import RUN_LABEL  # only when a docker run is to be reaped
    if shutil.which("docker") is None:
        return []
    try:
        listed = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}={run_id}"],
                                capture_output=True, text=True, timeout=30)
        ids = listed.stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", "-v", *ids], capture_output=True, timeout=120)
        networks = subprocess.run(["docker", "network", "ls", "-q", "--filter", f"label={RUN_LABEL}={run_id}"],
                                  capture_output=True, text=True, timeout=30).stdout.split()
        if networks:
            subprocess.run(["docker", "network", "rm", *networks], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [f"container {i}" for i in ids] + [f"network {n}" for n in networks]


def reap_dead_runs(parent: Path | None = None) -> list[str]:
    """Removes what runs whose owner died left under `parent` (by default wherever runs make their
    directories: harness.scratch); one line per thing reaped."""
    parents = [parent] if parent else scratch.candidates()
    reaped: list[str] = []
    for directory in sorted(d for p in parents for d in p.glob(RUN_PREFIX + "*")):
        try:
            owner = json.loads((directory / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not a run directory, or one of a version that wrote no owner: not ours to judge
        if not isinstance(owner, dict) or owner_alive(owner):
            continue
        what: list[str] = []
        if (directory / "data").is_dir():
            stopped = _stop_postmaster(directory / "data")
            if stopped:
                what.append(stopped)
        if isinstance(owner.get("marker"), str):
            what += kill_marked(owner["marker"])
        if isinstance(owner.get("run_id"), str):
            what += _remove_containers(owner["run_id"])
        if owner.get("kind") == "pgbouncer":   # a native PgBouncer runs with this directory's ini
            for pid in processes_running(directory / "pgbouncer.ini"):
                what.append(f"PgBouncer {describe(pid)}")
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(directory, ignore_errors=True)
        what.append(f"temp dir {directory}")
        reaped.append(f"run of dead pid {owner.get('pid')}: " + "; ".join(what))
    return reaped
