"""Where PgBouncer runs: the seam between the pooler (harness.pooler.pgbouncer: its files, its
console, its auth_file) and the process that serves them. Natively a process of that version's
binary on this machine (this module; harness.pooler.versions finds it); on the docker backend a
container of its own (harness.pooler.container). Both read everything from the one dir that holds pgbouncer.ini and
write their log there, so the harness treats them alike."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Protocol

from harness.pooler import DEFAULT_VERSION
from harness.pooler.versions import find_pgbouncer


class PoolerProcess(Protocol):
    def start(self, ini: Path) -> None:
        """Starts PgBouncer with `ini`; its dir holds every file PgBouncer reads and its log."""

    def is_alive(self) -> bool: ...

    def stop(self) -> None:
        """Stops it (PgBouncer's safe shutdown first) and removes what it made. Safe twice."""

    def version(self) -> str:
        """PgBouncer's version ("1.18.0")."""

    def owner_facts(self) -> dict[str, str]:
        """What the reaper must stop if the run is killed outright ({}: nothing it can find)."""

    def describe(self) -> str:
        """Where it runs, for a reader of an error."""


def version_line(output: str) -> str:
    first = output.splitlines()[0] if output else ""
    return first.replace("PgBouncer", "").strip() or first   # "PgBouncer 1.18.0" -> "1.18.0"


def pgbouncer_version(binary: str | None = None, version: str = DEFAULT_VERSION) -> str:
    out = subprocess.run([binary or find_pgbouncer(version), "--version"], capture_output=True, text=True, check=True)
    return version_line(out.stdout)


class NativeProcess:
    """PgBouncer `version` on this machine, in a session of its own (a Ctrl-C reaches the harness,
    which stops it in order), as `user` (the `postgres` account when the harness runs as root)."""

    def __init__(self, user: str | None = None, version: str = DEFAULT_VERSION) -> None:
        self.binary = find_pgbouncer(version)
        self.user = user
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self, ini: Path) -> None:
        self._proc = subprocess.Popen([self.binary, str(ini)], user=self.user, cwd="/", stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        # SIGINT: PgBouncer's safe shutdown; then the whole group, whatever is left.
        for sig, wait in ((signal.SIGINT, 3.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def version(self) -> str:
        return pgbouncer_version(self.binary)

    def owner_facts(self) -> dict[str, str]:
        return {"process": "native"}   # the reaper finds it by its ini in this directory

    def describe(self) -> str:
        return self.binary
