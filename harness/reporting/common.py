"""What every report shares: reading results.json (RunResult.to_json) and counting outcomes.

The reports work from the JSON, not the dataclasses, so they can be rebuilt from any
results.json: one written by the CLI, by pytest, or merged from several CI jobs."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

PASSED, FAILED, SKIPPED, NOT_APPLICABLE, XFAILED, XPASSED = (
    "passed", "failed", "skipped", "not_applicable", "xfailed", "xpassed")
OUTCOMES = (PASSED, FAILED, XPASSED, XFAILED, SKIPPED, NOT_APPLICABLE)
BAD = (FAILED, XPASSED)

# Characters XML 1.0 cannot hold (terminal escapes, NUL ...); example output may contain them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str | None) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text or "")


def file_stem(example_id: str) -> str:
    """`<language>/<name>` -> `<language>-<name>`, the stem of every per-example file."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", example_id.replace("/", "-", 1))


@dataclass(frozen=True)
class Tally:
    """The applicable cases (everything but n/a) of one example or of the whole run."""

    counts: Counter[str]

    @classmethod
    def of(cls, scenarios: list[dict[str, Any]]) -> "Tally":
        return cls(Counter(s.get("outcome", "") for s in scenarios))

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(self.counts + other.counts)

    @property
    def total(self) -> int:
        return sum(n for outcome, n in self.counts.items() if outcome != NOT_APPLICABLE)

    @property
    def passing(self) -> int:
        return self.counts[PASSED] + self.counts[XFAILED]

    @property
    def bad(self) -> int:
        return sum(self.counts[o] for o in BAD)

    @property
    def skipped(self) -> int:
        return self.counts[SKIPPED]


def scenario_order(run: dict[str, Any]) -> list[str]:
    """Every scenario name of the run once, in spec order (each example lists them in spec order)."""
    names: list[str] = []
    for example in run.get("examples", []):
        previous = -1
        for scenario in example.get("scenarios", []):
            name = scenario["name"]
            if name in names:
                previous = names.index(name)
            else:
                previous += 1
                names.insert(previous, name)
    return names


def case_anchor(example_id: str, scenario: str) -> str:
    return "case-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{example_id}--{scenario}")
