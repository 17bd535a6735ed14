"""The docker backend's kept example containers: one per example lane, started once and reused.

`docker run` of a container costs ~0.35 s of machine CPU here (runc's init, dockerd, containerd)
against ~0.08 s for `docker exec` into a running one, so a case is exec'd into a kept container
of its example. What keeps the cases apart is checked, not assumed:

- each case is its own `docker exec` (runc makes it a session and process group leader), with
  its own environment (`-e NAME`, the value from the docker client's environment: no password
  on a command line, nothing of one case in the container's own environment);
- its scratch (/tmp and /dev/shm, tmpfs) is emptied before it starts; the root file system is
  read-only;
- after the case the container's processes are listed (the SDK's `top`): anything besides the
  container's own init and keeper is a leftover: it is named in the case's verdict (as a native
  case's PID namespace names it) and the container is removed with it, so the next case starts
  in a new one. A timed-out or interrupted case's exec'd process group dies the same way.

Only one case runs in a container at a time (a lane is taken and given back), so what the
listing finds is that case's. Containment (CONTAINMENT): no Docker socket, every capability
dropped, no-new-privileges, memory, PID and CPU limits."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.server.container import ROLE_LABEL, RUN_LABEL

EXAMPLE_LABEL = "harness.example"
EXAMPLE_ROLE = "example"
SCRATCH = ("/tmp", "/dev/shm")
# The limits of every example container, in one place (docs/docker-backend.md, "Containment").
MEMORY_LIMIT = "1g"            # the JVM sizes its default heap from it (a quarter)
PIDS_LIMIT = 1024              # threads count: HikariCP's story runs hundreds of requests
CPU_LIMIT_CORES = 2.0
SCRATCH_TMPFS = "rw,nosuid,nodev,size=256m,mode=1777"
CONTAINMENT: dict[str, Any] = {
    "cap_drop": ["ALL"],       # no driver needs one: they connect out over TCP and write only scratch
    "security_opt": ["no-new-privileges"],
    "read_only": True,
    "tmpfs": {"/tmp": SCRATCH_TMPFS},
    "mem_limit": MEMORY_LIMIT,
    "memswap_limit": MEMORY_LIMIT,
    "pids_limit": PIDS_LIMIT,
    "nano_cpus": int(CPU_LIMIT_CORES * 1e9),
}
# PID 1 (docker-init, which reaps the orphans of every case) and its child that keeps it up.
KEEPER = ["sleep", "infinity"]
# Run before the case's own command, in the case's exec: empty the scratch, then become the case.
FRESH_SCRATCH = ('for d in ' + " ".join(SCRATCH) + '; do rm -rf "$d"/* "$d"/.[!.]* "$d"/..?* 2>/dev/null; done; '
                 'exec "$@"')
# A process that exits as the case ends may show for a moment: it counts only if still there after this.
SETTLE_SECONDS = 0.5


@dataclass
class KeptContainer:
    """One lane: a running container of one example's image, with its fixed mounts."""

    id: str
    name: str
    key: tuple[str, str, tuple[str, ...]]          # (example id, image id, mounted paths)
    own_pids: frozenset[str]                       # host PIDs of its init and keeper
    command: list[str]                             # the image's entrypoint + cmd: what a case runs
    cpu_usage_file: Path | None                    # its cgroup's CPU counter (None: not readable here)
    cases: int = 0


@dataclass
class CaseLease:
    """A case's use of a lane, from its exec to the check of what it left."""

    container: KeptContainer
    cpu_before: int | None
    leftovers: list[str] = field(default_factory=list)
    cpu_seconds: float | None = None
    finished: bool = False


def cpu_usage_file(pid: str) -> Path | None:
    """The cgroup CPU counter of the container that holds host process `pid`: cgroup v1's
    cpuacct.usage (nanoseconds) or v2's cpu.stat; None when neither is readable here."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    candidates = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(","):
            candidates += [Path(root + path) / "cpuacct.usage"
                           for root in ("/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/cpu,cpuacct")]
        elif controllers == "":
            candidates.append(Path("/sys/fs/cgroup" + path) / "cpu.stat")
    return next((c for c in candidates if c.exists()), None)


def read_usage(counter: Path | None) -> int | None:
    if counter is None:
        return None
    try:
        if counter.name == "cpu.stat":
            usec = next(ln for ln in counter.read_text().splitlines() if ln.startswith("usage_usec"))
            return int(usec.split()[1]) * 1000
        return int(counter.read_text())
    except (OSError, ValueError, StopIteration):
        return None


def process_lines(top: dict[str, Any]) -> list[tuple[str, str]]:
    """(host PID, command line) of each process `container.top()` listed."""
    titles = [t.upper() for t in top.get("Titles") or []]
    pid_at = titles.index("PID") if "PID" in titles else 1
    cmd_at = next((i for i, t in enumerate(titles) if t in ("CMD", "COMMAND", "ARGS")), len(titles) - 1)
    return [(str(row[pid_at]), str(row[cmd_at])) for row in top.get("Processes") or []]


class ExampleContainers:
    """The run's kept example containers: idle lanes by key, a lane taken per running case."""

    def __init__(self, run_id: str, client: Any, lock: threading.Lock) -> None:
        self.run_id = run_id
        self._client = client          # the executor's kept client, used under `lock`
        self._lock = lock
        self._idle: dict[tuple[str, str, tuple[str, ...]], list[KeptContainer]] = {}
        self._counter = itertools.count(1)
        self.started = 0               # containers started this run (the tests read it)

    def take(self, example_id: str, image: str, mounts: tuple[str, ...]) -> CaseLease:
        key = (example_id, image, mounts)
        with self._lock:
            idle = self._idle.get(key)
            kept = idle.pop() if idle else None
        if kept is None:
            kept = self._start(key)
        kept.cases += 1
        return CaseLease(kept, read_usage(kept.cpu_usage_file))

    @staticmethod
    def exec_argv(lease: CaseLease, env_names: list[str], command: list[str]) -> list[str]:
        """The docker client's command that runs the case's command in its lane."""
        argv = ["docker", "exec", "-i"]
        for name in env_names:
            argv += ["-e", name]   # the value comes from the docker client's environment
        return [*argv, lease.container.id, "sh", "-c", FRESH_SCRATCH, "sh", *command]

    def finish(self, lease: CaseLease) -> None:
        """After the case's exec ended: what it left running is named and removed with its
        container (which is then not used again); a clean lane goes back to the idle ones."""
        if lease.finished:
            return
        lease.finished = True
        kept = lease.container
        left = self._strangers(kept)
        if left:
            time.sleep(SETTLE_SECONDS)
            still = {pid for pid, _ in self._strangers(kept)}
            left = [(pid, cmd) for pid, cmd in left if pid in still]
        after = read_usage(kept.cpu_usage_file)
        if lease.cpu_before is not None and after is not None:
            lease.cpu_seconds = max(0, after - lease.cpu_before) / 1e9
        lease.leftovers = [f"pid {pid} in the example's container {kept.name}: {cmd[:160] or '?'}" for pid, cmd in left]
        if left:
            self._remove(kept)     # kills the exec'd process group and whatever else it left
            return
        with self._lock:
            self._idle.setdefault(kept.key, []).append(kept)

    def _strangers(self, kept: KeptContainer) -> list[tuple[str, str]]:
        """Processes of the container other than its own init and keeper (its state: Z excluded by ps)."""
        import docker
        try:
            with self._lock:
                top = self._client.api.top(kept.id, ps_args="-o pid,stat,args")
        except docker.errors.APIError as exc:
            return [("?", f"the container's processes could not be listed: {exc}")]
        rows = []
        titles = [t.upper() for t in top.get("Titles") or []]
        stat_at = titles.index("STAT") if "STAT" in titles else None
        for row, (pid, cmd) in zip(top.get("Processes") or [], process_lines(top)):
            if pid in kept.own_pids or (stat_at is not None and str(row[stat_at]).startswith(("Z", "X"))):
                continue
            rows.append((pid, cmd))
        return rows

    def _start(self, key: tuple[str, str, tuple[str, ...]]) -> KeptContainer:
        example_id, image, mounts = key
        slug = example_id.replace("/", "-")
        name = f"pgsh-{self.run_id}-lane{next(self._counter)}-{slug}"[:120]
        import docker
        with self._lock:
            try:
                config = self._client.api.inspect_image(image)["Config"]
                container = self._client.containers.run(
                    image, entrypoint=KEEPER[:1], command=KEEPER[1:], name=name, detach=True, init=True,
                    network_mode="host", labels={RUN_LABEL: self.run_id, ROLE_LABEL: EXAMPLE_ROLE,
                                                 EXAMPLE_LABEL: example_id},
                    volumes={path: {"bind": path, "mode": "ro"} for path in mounts}, **CONTAINMENT)
            except docker.errors.DockerException as exc:
                raise HarnessError(f"could not start a container of {example_id} (image {image[:19]}): {exc}\n"
                                   f"  fix: see `docker info`; the limits are CONTAINMENT in {__file__}") from exc
            self.started += 1
        command = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
        own = self._own_processes(container.id)
        counter = cpu_usage_file(own[0]) if own else None
        return KeptContainer(container.id, name, key, frozenset(own), command, counter)

    def _own_processes(self, container_id: str) -> list[str]:
        """The host PIDs of a new container's init and keeper, once both are up."""
        deadline = time.monotonic() + 5
        while True:
            with self._lock:
                own = [pid for pid, _ in process_lines(self._client.api.top(container_id, ps_args="-o pid,args"))]
            if len(own) >= 2 or time.monotonic() > deadline:
                return own
            time.sleep(0.02)

    def _remove(self, kept: KeptContainer) -> None:
        import docker
        try:
            with self._lock:
                self._client.api.remove_container(kept.id, force=True, v=True)
        except docker.errors.APIError:
            pass   # gone already; the run's label check at the end removes what is left

    def close(self) -> None:
        """Forget the idle lanes (the executor's label check removes every container of the run)."""
        with self._lock:
            self._idle.clear()
