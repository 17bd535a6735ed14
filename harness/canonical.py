"""Canonical forms, so that values printed by four languages compare by meaning, not spelling."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


def parse_timestamp(text: str) -> datetime:
    """ISO 8601 in the spellings drivers print: 'T' or ' ', 'Z' or +00 / +00:00, any precision."""
    value = text.strip().replace(" ", "T", 1)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # PostgreSQL's own text form ends in +HH; fromisoformat wants +HH:MM.
    if len(value) >= 3 and value[-3] in "+-" and value[-2:].isdigit() and "T" in value:
        value += ":00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return parsed.astimezone(timezone.utc)


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"{value!r} is not a number") from exc


def _hex(value: Any) -> str:
    text = str(value).lower()
    return text[2:] if text.startswith("\\x") else text


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


CANONICAL_TYPES = {
    "int8": lambda v: int(str(v)),
    "numeric": _decimal,
    "text": str,
    "bool": lambda v: v if isinstance(v, bool) else ValueError(f"{v!r} is not a JSON boolean"),
    "timestamptz": lambda v: parse_timestamp(str(v)).isoformat(timespec="microseconds"),
    "date": lambda v: date.fromisoformat(str(v)[:10]).isoformat() if len(str(v)) == 10 else ValueError(f"{v!r} is not YYYY-MM-DD"),
    "bytea": _hex,
    "jsonb": _json_value,
    "int_array": lambda v: [int(x) for x in v] if isinstance(v, list) else ValueError(f"{v!r} is not an array"),
    "null": lambda v: v if v is None else ValueError(f"{v!r} is not null"),
}


def canonical_values(values: dict[str, Any]) -> dict[str, Any]:
    """Each known key in canonical form; a value that cannot be read becomes '<error: ...>'."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        convert = CANONICAL_TYPES.get(key)
        if convert is None:
            out[key] = value
            continue
        try:
            result = convert(value)
        except (ValueError, TypeError) as exc:
            result = exc
        out[key] = f"<unreadable: {result}>" if isinstance(result, Exception) else _jsonable(result)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value
