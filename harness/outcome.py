"""The verdicts, in one place: every failure path ends as a value of these types."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Outcome(str, enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_APPLICABLE = "not_applicable"
    XFAILED = "xfailed"
    XPASSED = "xpassed"

    @property
    def is_bad(self) -> bool:
        """An outcome that must turn the run red."""
        return self in (Outcome.FAILED, Outcome.XPASSED)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Outcome.PASSED: "✔ passed",
    Outcome.FAILED: "✘ FAILED",
    Outcome.SKIPPED: "- skipped",
    Outcome.NOT_APPLICABLE: "· n/a",
    Outcome.XFAILED: "✔ known failure",
    Outcome.XPASSED: "✘ XPASSED",
}


@dataclass
class Failure:
    """Why a case failed, with everything a person needs to see it at one glance."""

    summary: str
    problems: list[str] = field(default_factory=list)
    diff: str = ""
    stderr_tail: str = ""
    server_view: str = ""
    reproduce: str = ""
    rendered: str = ""  # set when read back from results.json (e.g. from a pytest-xdist worker)

    def render(self) -> str:
        if self.rendered:
            return self.rendered
        parts = [self.summary]
        parts += [f"  - {problem}" for problem in self.problems]
        if self.diff:
            parts += ["", "expected vs actual (- expected, + actual):", self.diff]
        if self.stderr_tail:
            parts += ["", "example stderr (first and last lines):", _indent(self.stderr_tail)]
        if self.server_view:
            parts += ["", "what the server saw:", _indent(self.server_view)]
        if self.reproduce:
            parts += ["", f"reproduce: {self.reproduce}"]
        return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())


@dataclass
class ScenarioResult:
    name: str
    outcome: Outcome
    seconds: float = 0.0
    message: str = ""
    observed: dict[str, Any] = field(default_factory=dict)
    failure: Failure | None = None
    stdout: str = ""
    stderr: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome.value,
            "seconds": round(self.seconds, 3),
            "message": self.message,
            "observed": self.observed,
            "details": self.failure.render() if self.failure else "",
            "reproduce": self.failure.reproduce if self.failure else "",
            "stdout": self.stdout,
            "stderr": self.stderr,
        }


def scenario_from_json(data: dict[str, Any]) -> ScenarioResult:
    """The inverse of ScenarioResult.to_json, for results that crossed a process boundary."""
    failure = None
    if data.get("details"):
        failure = Failure(summary=data.get("message", ""), reproduce=data.get("reproduce", ""), rendered=data["details"])
    return ScenarioResult(name=data["name"], outcome=Outcome(data["outcome"]), seconds=float(data.get("seconds", 0)),
                          message=data.get("message", ""), observed=dict(data.get("observed") or {}), failure=failure,
                          stdout=data.get("stdout", ""), stderr=data.get("stderr", ""))


# connect_latency scenarios -> the mode they measure, and the figures the reports quote.
LATENCY_SCENARIOS = {"connect_latency": "plain", "connect_latency_tls": "tls"}
LATENCY_KEYS = ("connect_p50_ms", "connect_p95_ms", "query_p50_ms", "query_p95_ms", "server_auth_p50_ms", "pooled")


@dataclass
class ExampleResult:
    id: str
    language: str
    driver: str
    outcome: Outcome = Outcome.PASSED
    reason: str = ""
    build_seconds: float = 0.0
    build_cached: bool = False
    scenarios: list[ScenarioResult] = field(default_factory=list)

    def settle(self) -> None:
        """The example's own outcome follows from its scenarios unless it was skipped whole."""
        if self.outcome is Outcome.SKIPPED:
            return
        bad = [s.name for s in self.scenarios if s.outcome.is_bad]
        self.outcome = Outcome.FAILED if bad else Outcome.PASSED
        if bad and not self.reason:
            self.reason = "failed: " + ", ".join(bad)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "driver": self.driver,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "build": {"seconds": round(self.build_seconds, 3), "cached": self.build_cached},
            "scenarios": [s.to_json() for s in self.scenarios],
        }


@dataclass
class RunResult:
    backend: str
    postgres: str
    examples: list[ExampleResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # The lifecycle probe's waterfall (harness.probe.run_probe), when the run included it.
    lifecycle_probe: dict[str, Any] | None = None

    def connect_figures(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Per driver, what its connect_latency cases measured: {"plain": {...}, "tls": {...}}."""
        figures: dict[str, dict[str, dict[str, Any]]] = {}
        for example in self.examples:
            for case in example.scenarios:
                mode = LATENCY_SCENARIOS.get(case.name)
                if mode and case.outcome in (Outcome.PASSED, Outcome.XPASSED, Outcome.FAILED) \
                        and "connect_p50_ms" in case.observed:
                    figures.setdefault(example.id, {})[mode] = {
                        k: case.observed[k] for k in LATENCY_KEYS if k in case.observed}
        return figures

    @property
    def ok(self) -> bool:
        return not self.errors and not any(
            s.outcome.is_bad for e in self.examples for s in e.scenarios
        ) and not any(e.outcome is Outcome.FAILED for e in self.examples)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": 1,
            "backend": self.backend,
            "postgres": self.postgres,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "examples": [e.to_json() for e in self.examples],
            "lifecycle": {"probe": self.lifecycle_probe, "drivers": self.connect_figures()},
        }
