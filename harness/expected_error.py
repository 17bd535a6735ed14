"""The error a known failure must show (an example.yaml's `known_failures[].error`, and
spec/pgbouncer.yaml's `known_failures[].error`): a SQLSTATE, a message pattern, or the check's
own reason code. A failure that does not show it is not that known failure: it stays `failed`,
and its message names the expected and the actual reason.

    error:
      sqlstate: "26000"                 # or a list: any one of them
      message: 'prepared statement "S_\\d+"'   # a Python regular expression (re.search), or a list
      reason_code: session_set_lost     # the check's own code for its problem, or a list

Each key given must be shown (a list within a key: any one of it). A SQLSTATE is shown when
the server logged an ERROR or FATAL with it for the case, when the result's data reports it
(`sqlstate` fields), or when it stands as a word in the failure's text; a message is searched
in the failure's problems, the example's stderr and stdout, and the server's view of the case;
a reason code is one the failure's problems carry (harness.scenarios.base.Verdict)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError

KEYS = ("sqlstate", "message", "reason_code")
SQLSTATE = re.compile(r"[0-9A-Z]{5}")
REASON_CODE = re.compile(r"[a-z][a-z0-9_]*(:[A-Za-z0-9_.\[\]-]+)?")
EXAMPLE = "error: {sqlstate: \"26000\"} (or message: '<regular expression>', or reason_code: <code>)"


@dataclass(frozen=True)
class ShownError:
    """What a failed case showed: its problems' reason codes, the SQLSTATEs the server logged or
    the data reported, and its text (problems, stderr, stdout, the server's view)."""

    summary: str
    codes: tuple[str, ...] = ()
    sqlstates: tuple[str, ...] = ()
    text: str = ""

    def describe(self) -> str:
        codes = ", ".join(c for c in self.codes if c) or "none"
        states = ", ".join(self.sqlstates) or "none"
        return f"{self.summary!r} (reason codes: {codes}; SQLSTATEs: {states})"


@dataclass(frozen=True)
class ExpectedError:
    sqlstates: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()       # regular expressions, compiled when loaded
    reason_codes: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = []
        if self.sqlstates:
            parts.append("SQLSTATE " + " or ".join(self.sqlstates))
        if self.messages:
            parts.append("a message matching " + " or ".join(repr(m) for m in self.messages))
        if self.reason_codes:
            parts.append("reason code " + " or ".join(self.reason_codes))
        return " and ".join(parts)

    def shown_by(self, shown: ShownError) -> str | None:
        """What of it the failure showed ("SQLSTATE 26000; reason code x"), or None when a key
        given was not shown."""
        found = []
        if self.sqlstates:
            state = next((s for s in self.sqlstates if s in shown.sqlstates
                          or re.search(rf"(?<![0-9A-Za-z]){s}(?![0-9A-Za-z])", shown.text)), None)
            if state is None:
                return None
            found.append(f"SQLSTATE {state}")
        if self.messages:
            match = next((m for m in (re.search(p, shown.text) for p in self.messages) if m), None)
            if match is None:
                return None
            found.append(f"message {match.group(0)[:80]!r}")
        if self.reason_codes:
            code = next((c for c in self.reason_codes if c in shown.codes), None)
            if code is None:
                return None
            found.append(f"reason code {code}")
        return "; ".join(found)


def _strings(value: Any) -> list[str] | None:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in items):
        return None
    return [str(i) for i in items]


def parse_expected(raw: Any, file: Path | str, key: str) -> ExpectedError:
    """`raw` (the entry's `error`), checked: every problem names the file, the key and the fix."""
    if raw is None or raw == "" or raw == {}:
        raise InputError(file, key, "is missing: a known failure names the error it must show",
                         f"add {EXAMPLE}")
    if not isinstance(raw, dict):
        raise InputError(file, key, f"is {raw!r}, not a mapping", f"write it as {EXAMPLE}")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise InputError(file, f"{key}.{unknown[0]}", "is not a known key", f"use one of: {', '.join(KEYS)}")
    values: dict[str, list[str]] = {}
    for name in KEYS:
        if name not in raw:
            continue
        strings = _strings(raw[name])
        if strings is None or not all(strings):
            raise InputError(file, f"{key}.{name}", f"is {raw[name]!r}", "give a string or a list of strings")
        values[name] = strings
    for state in values.get("sqlstate", []):
        if not SQLSTATE.fullmatch(state):
            raise InputError(file, f"{key}.sqlstate", f"{state!r} is not a SQLSTATE (five digits or capitals)",
                             "quote it as written in the PostgreSQL docs' error codes table, e.g. sqlstate: \"08P01\"")
    for pattern in values.get("message", []):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InputError(file, f"{key}.message", f"{pattern!r} is not a regular expression: {exc}",
                             "fix the pattern (Python's re; quote it in single quotes; escape a literal ( [ . * + ? "
                             "with a backslash)") from None
    for code in values.get("reason_code", []):
        if not REASON_CODE.fullmatch(code):
            raise InputError(file, f"{key}.reason_code", f"{code!r} is not a reason code",
                             "use the code a failure of the case shows in results.json (failure.codes), "
                             "e.g. session_set_lost or differs:data.rows")
    return ExpectedError(tuple(values.get("sqlstate", ())), tuple(values.get("message", ())),
                         tuple(values.get("reason_code", ())))
