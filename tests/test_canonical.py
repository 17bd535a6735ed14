"""harness.canonical: values printed by four languages compare by meaning, not spelling."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from harness.canonical import canonical_values, parse_timestamp

INSTANT = datetime(2024, 2, 29, 23, 59, 58, 123000, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", [
    "2024-02-29T23:59:58.123Z",               # node Date.toISOString, Java Instant
    "2024-02-29T23:59:58.123+00:00",          # Python isoformat (ms)
    "2024-02-29T23:59:58.123000+00:00",       # Python isoformat (µs)
    "2024-02-29 23:59:58.123+00",             # PostgreSQL's text form (libpqxx)
    "2024-02-29 23:59:58.123+00:00",
    "2024-03-01T05:29:58.123+05:30",          # another offset, the same instant
    "2024-03-01 01:59:58.123+02",
    "2024-02-29T15:59:58.123-08",
    "2024-02-29T15:59:58.123-08:00",
    "  2024-02-29T23:59:58.123Z  ",
])
def test_timestamp_spellings_are_one_instant(text: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed == INSTANT
    assert parsed.tzinfo == timezone.utc


def test_timestamp_precision_is_kept() -> None:
    assert parse_timestamp("2024-02-29T23:59:58Z") == INSTANT.replace(microsecond=0)
    assert parse_timestamp("2024-02-29 23:59:58.123456+00").microsecond == 123456
    assert parse_timestamp("2024-02-29T23:59:58.123Z") != parse_timestamp("2024-02-29T23:59:58.124Z")


@pytest.mark.parametrize("text", ["2024-02-29T23:59:58.123", "2024-02-29 23:59:58", "2024-02-29", "yesterday", ""])
def test_timestamps_without_an_offset_or_unreadable_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_a_timestamp_without_offset_says_so() -> None:
    with pytest.raises(ValueError, match="has no UTC offset"):
        parse_timestamp("2024-02-29T23:59:58.123")


SPEC_VALUES = {
    "int8": "9007199254740993", "numeric": "1234567890.12", "text": "Zoë 🐘 \"q\" 'q' back\\slash",
    "bool": True, "timestamptz": "2024-02-29T23:59:58.123Z", "date": "2024-02-29", "bytea": "deadbeef00ff7f80",
    "jsonb": {"a": [1, 2.5, "ü"], "b": None, "c": {"d": True}}, "int_array": [1, -2, 3], "null": None,
}


def test_driver_spellings_of_the_same_values_are_equal() -> None:
    printed = {
        "int8": 9007199254740993, "numeric": "1234567890.120", "text": "Zoë 🐘 \"q\" 'q' back\\slash",
        "bool": True, "timestamptz": "2024-03-01 01:59:58.123+02", "date": "2024-02-29",
        "bytea": "\\xDEADBEEF00FF7F80", "jsonb": '{"c": {"d": true}, "b": null, "a": [1, 2.5, "ü"]}',
        "int_array": [1, -2, 3], "null": None,
    }
    assert canonical_values(printed) == canonical_values(SPEC_VALUES)


def test_canonical_forms() -> None:
    canonical = canonical_values(SPEC_VALUES)
    assert canonical["int8"] == 9007199254740993
    assert canonical["numeric"] == "1234567890.12"
    assert canonical["timestamptz"] == "2024-02-29T23:59:58.123000+00:00"
    assert canonical["bytea"] == "deadbeef00ff7f80"
    assert canonical["jsonb"] == SPEC_VALUES["jsonb"]
    assert canonical["null"] is None


@pytest.mark.parametrize(("value", "expected"), [
    ("1234567890.12", "1234567890.12"), ("1234567890.120", "1234567890.12"), (Decimal("1234567890.1200"), "1234567890.12"),
    (1234567890.12, "1234567890.12"), ("100", "100"), ("1E+2", "100"), ("100.00", "100"), ("-0.50", "-0.5"),
])
def test_numeric_normalisation(value: object, expected: str) -> None:
    assert canonical_values({"numeric": value})["numeric"] == expected


def test_different_values_stay_different() -> None:
    assert canonical_values({"numeric": "1234567890.13"}) != canonical_values({"numeric": "1234567890.12"})
    assert canonical_values({"int8": "9007199254740992"}) != canonical_values({"int8": "9007199254740993"})
    assert canonical_values({"bytea": "\\xdeadbeef"}) != canonical_values({"bytea": "deadbeee"})
    assert canonical_values({"timestamptz": "2024-02-29T23:59:58.123+01:00"}) != \
        canonical_values({"timestamptz": "2024-02-29T23:59:58.123Z"})


@pytest.mark.parametrize(("key", "value", "why"), [
    ("bool", "true", "is not a JSON boolean"),
    ("bool", 1, "is not a JSON boolean"),
    ("date", "2024-02-29T00:00:00", "is not YYYY-MM-DD"),
    ("int_array", "{1,-2,3}", "is not an array"),
    ("null", "", "is not null"),
    ("numeric", "12,5", "is not a number"),
    ("timestamptz", "2024-02-29 23:59:58", "has no UTC offset"),
])
def test_unreadable_values_are_marked_not_crashed(key: str, value: object, why: str) -> None:
    out = canonical_values({key: value})[key]
    assert isinstance(out, str) and out.startswith("<unreadable: ") and why in out


def test_unknown_keys_pass_through() -> None:
    assert canonical_values({"extra": [1, "x"]}) == {"extra": [1, "x"]}
