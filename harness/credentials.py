"""The run's secrets: the superuser's password (the harness's own, never in an example's
environment) and one generated password per example role, plus the mask that keeps every one
of them out of results, reports and terminals."""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import hmac
import secrets
import threading
from typing import TypeVar
from urllib.parse import quote, quote_plus

from harness.text import printable

T = TypeVar("T")

MASK = "********"


def new_password() -> str:
    return secrets.token_urlsafe(18)


class Credentials:
    """Passwords of one run. Thread-safe: examples run `-j N` at a time."""

    def __init__(self) -> None:
        self.superuser = new_password()
        self._roles: dict[str, str] = {}
        self._lock = threading.Lock()

    def for_role(self, role: str) -> str:
        """The role's own password: made once, different from the superuser's and every other role's."""
        with self._lock:
            if role not in self._roles:
                self._roles[role] = new_password()
            return self._roles[role]

    def secrets(self) -> list[str]:
        with self._lock:
            return [self.superuser, *self._roles.values()]

    def mask(self, text: str) -> str:
        """Every password of the run, also URL-encoded (DATABASE_URL), replaced by ********."""
        if not text:
            return text
        for secret in self.secrets():
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, MASK)
        return text


def mask_all(value: T, mask: "Credentials") -> T:
    """The same mask over every string inside a result (message, diffs, what the server saw,
    observed values...), dataclasses included; terminal control characters shown escaped."""
    if isinstance(value, enum.Enum):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: mask_all(getattr(value, f.name), mask) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)  # type: ignore[return-value]
    if isinstance(value, str):
        return mask.mask(printable(value))  # type: ignore[return-value]
    if isinstance(value, (list, tuple)):
        return type(value)(mask_all(v, mask) for v in value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: mask_all(v, mask) for k, v in value.items()}  # type: ignore[return-value]
    return value


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5803 form). The harness sends
    this, never the password itself, so the server's statement log cannot show it."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
