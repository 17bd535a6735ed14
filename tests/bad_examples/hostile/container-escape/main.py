"""Tries what a compromised dependency would, and prints each attempt's outcome on stderr as
`attempt <what>: <outcome>` (tests/test_docker_backend.py reads them); leaves a file in its
scratch and says whether the previous case's file was still there."""
import json
import os
import socket
import sys


def attempt(what: str, outcome: str) -> None:
    print(f"attempt {what}: {outcome}", file=sys.stderr, flush=True)


for path in ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
        attempt(f"socket {path}", "reached")
    except OSError as exc:
        attempt(f"socket {path}", f"refused ({exc.strerror})")
for path in ("/app/main.py", "/etc/passwd", "/usr/local/bin/python3"):
    try:
        with open(path, "a"):
            pass
        attempt(f"write {path}", "written")
    except OSError as exc:
        attempt(f"write {path}", f"refused ({exc.strerror})")
with open("/proc/self/status") as status:
    fields = dict(line.split(":\t", 1) for line in status.read().splitlines() if ":\t" in line)
attempt("capabilities", fields.get("CapEff", "?").strip())
attempt("no_new_privs", fields.get("NoNewPrivs", "?").strip())
for name, path in (("memory", "/sys/fs/cgroup/memory/memory.limit_in_bytes"), ("memory", "/sys/fs/cgroup/memory.max"),
                   ("pids", "/sys/fs/cgroup/pids/pids.max"), ("pids", "/sys/fs/cgroup/pids.max"),
                   ("cpu", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), ("cpu", "/sys/fs/cgroup/cpu.max")):
    try:
        with open(path) as limit:
            attempt(f"limit {name}", limit.read().strip())
    except OSError:
        pass
attempt("scratch from an earlier case", "found" if os.path.exists("/tmp/left-by-a-case") else "none")
with open("/tmp/left-by-a-case", "w") as mark:
    mark.write("x")
print(json.dumps({"type": "result", "scenario": os.environ.get("HARNESS_SCENARIO", ""), "data": {}}), flush=True)
