"""PgBouncer's log, read as a record of the client side: who logged in (with or without TLS),
who went and why, handshakes that failed. Lines look like

    2026-12-01 23:09:08.176 UTC [10697] LOG C-0x55..: d1/r1@127.0.0.1:46276 login attempt: db=d1 user=r1 tls=no
    2026-12-01 23:16:33.543 UTC [1641] WARNING TLS handshake error: handshake failed: ... unknown ca
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

LINE = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) UTC \[\d+\] (?P<level>[A-Z]+) (?P<rest>.*)$")
CLIENT = re.compile(r"^(?P<client>C-0x[0-9a-f]+): (?P<db>[^/]*)/(?P<user>[^@]*)@\S+ (?P<message>.*)$")


@dataclass(frozen=True)
class PoolerRecord:
    timestamp: datetime      # naive UTC, as the server's log records are
    level: str
    client: str              # PgBouncer's client id (C-0x...), "" for a line about no client
    database: str
    user: str
    message: str

    @property
    def is_login(self) -> bool:
        return self.message.startswith("login attempt:")

    @property
    def is_close(self) -> bool:
        return self.message.startswith("closing because:")

    @property
    def tls(self) -> str:
        """The TLS a login attempt came with ("no" without)."""
        match = re.search(r"tls=(\S+)", self.message)
        return match.group(1) if match else ""


def parse_line(line: str) -> PoolerRecord | None:
    match = LINE.match(line.strip())
    if match is None:
        return None
    when = datetime.strptime(match["ts"], "%Y-%m-%d %H:%M:%S.%f")
    rest = match["rest"]
    client = CLIENT.match(rest)
    if client is None:
        return PoolerRecord(when, match["level"], "", "", "", rest)
    return PoolerRecord(when, match["level"], client["client"], client["db"], client["user"], client["message"])


def log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def read_since(path: Path, offset: int) -> list[PoolerRecord]:
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except OSError:
        return []
    return [r for r in (parse_line(line) for line in text.splitlines()) if r is not None]


def open_clients_peak(records: list[PoolerRecord]) -> tuple[int, int]:
    """(most clients connected at once, logins in all): each login attempt opens a client, its
    `closing because` closes it (PgBouncer reuses a client id only after it closed)."""
    open_now = peak = logins = 0
    opened: set[str] = set()
    for record in sorted(records, key=lambda r: (r.timestamp, r.is_login)):   # a close and a login at once: close first
        if record.is_login and record.client not in opened:
            opened.add(record.client)
            open_now += 1
            logins += 1
            peak = max(peak, open_now)
        elif record.is_close and record.client in opened:
            opened.discard(record.client)
            open_now -= 1
    return peak, logins
