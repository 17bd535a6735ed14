"""PID 1 of a case's own PID namespace (started by harness.sandbox; stdlib only, run with -I -S: it starts with every case).

    python -I -S sandbox_init.py <report file> <argv...>

Starts argv, reaps every orphan while it runs, and once argv's process has exited writes to
the report file its exit code (negative: killed by that signal) on the first line and one line
per process still running; the first line also holds the CPU seconds (user + system) of every
process of the namespace it reaped, the example's included. Then it exits, and the kernel kills whatever is left in the
namespace: a daemon the example double-forked dies with its case. Only built-in modules: it
starts with every case, and each import costs milliseconds."""

import os
import signal
import sys

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def leftovers() -> list[str]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == 1:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            found.append(f"pid {name} in the case's namespace: {cmdline[:160] or '?'}")
    return found


def forward(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def main() -> int:
    report, argv = sys.argv[1], sys.argv[2:]
    child = os.fork()
    if child == 0:
        for sig in FORWARDED:
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(argv[0], argv)
        except OSError as exc:
            print(f"could not start {argv[0]!r}: {exc.strerror}", file=sys.stderr)
            os._exit(127)
    # PID 1 ignores signals it has no handler for: pass the harness's TERM on to the example.
    for sig in FORWARDED:
        signal.signal(sig, lambda signum, _frame: forward(child, signum))
    status = 0
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            break
    code = os.waitstatus_to_exitcode(status)
    reaped = os.times()
    cpu = reaped.children_user + reaped.children_system
    with open(report, "w") as out:
        out.write("\n".join([f"{code} {cpu:.3f}", *(line.replace("\n", " ") for line in leftovers())]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
