"""The result types: every path of a case ends as a ScenarioResult, an example as an
ExampleResult, a run as a RunResult (and its results.json). The outcomes and the rules over them
are harness.verdict's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from harness import verdict
from harness.verdict import Outcome

__all__ = ["Outcome", "Failure", "ScenarioResult", "scenario_from_json", "ExampleResult", "RunResult"]


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
    codes: list[str] = field(default_factory=list)       # the problems' reason codes (a known failure may name one)
    sqlstates: list[str] = field(default_factory=list)   # what the server logged and the data reported

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

    def parts(self) -> dict[str, Any]:
        """The pieces apart, so that a report shows the diff as a diff without parsing render()."""
        return {"summary": self.summary, "problems": self.problems, "diff": self.diff,
                "stderr_tail": self.stderr_tail, "server_view": self.server_view, "codes": self.codes,
                "sqlstates": self.sqlstates}


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
    topology: str = "direct"   # harness.pooler: straight to the server or through PgBouncer
    started: float | None = None   # seconds after the matrix started (the run's timeline; None: did not run)
    known_failure: dict[str, str] | None = None   # an xfail's reason: why, where declared, what it showed

    @property
    def key(self) -> str:
        """The case's key within its example: the scenario, then @topology unless direct."""
        return self.name if self.topology == "direct" else f"{self.name}@{self.topology}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "topology": self.topology,
            "outcome": self.outcome.value,
            "seconds": round(self.seconds, 3),
            "started_s": None if self.started is None else round(self.started, 3),
            "message": self.message,
            "observed": self.observed,
            "details": self.failure.render() if self.failure else "",
            "failure": self.failure.parts() if self.failure and not self.failure.rendered else None,
            "reproduce": self.failure.reproduce if self.failure else "",
            "stdout": self.stdout,
            "stderr": self.stderr,
            "known_failure": self.known_failure,
        }


def scenario_from_json(data: dict[str, Any]) -> ScenarioResult:
    """The inverse of ScenarioResult.to_json, for results that crossed a process boundary."""
    failure = None
    if data.get("failure"):
        parts = data["failure"]
        failure = Failure(summary=parts.get("summary", ""), problems=list(parts.get("problems") or []),
                          diff=parts.get("diff", ""), stderr_tail=parts.get("stderr_tail", ""),
                          server_view=parts.get("server_view", ""), reproduce=data.get("reproduce", ""),
                          codes=list(parts.get("codes") or []), sqlstates=list(parts.get("sqlstates") or []))
    elif data.get("details"):
        failure = Failure(summary=data.get("message", ""), reproduce=data.get("reproduce", ""), rendered=data["details"])
    return ScenarioResult(name=data["name"], outcome=Outcome(data["outcome"]), seconds=float(data.get("seconds", 0)),
                          message=data.get("message", ""), observed=dict(data.get("observed") or {}), failure=failure,
                          stdout=data.get("stdout", ""), stderr=data.get("stderr", ""),
                          topology=data.get("topology", "direct"), started=data.get("started_s"),
                          known_failure=data.get("known_failure"))


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
    # The page's code this run proved: its regions with their hashes (docs --check compares them).
    samples: list[dict[str, Any]] = field(default_factory=list)

    def settle(self, toolchain_missing: str = "") -> None:
        """The example's own outcome follows from its scenarios, unless it was skipped whole or it
        could not run at all (`toolchain_missing`: the tools' lines)."""
        if self.outcome is Outcome.SKIPPED:
            return
        self.outcome = verdict.example_outcome((s.outcome for s in self.scenarios),
                                               failed_whole=bool(toolchain_missing))
        if toolchain_missing:
            self.reason = f"toolchain missing: {toolchain_missing}"
        elif not self.reason:
            self.reason = verdict.failing_reason(s.name for s in self.scenarios if s.outcome.is_bad)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "driver": self.driver,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "build": {"seconds": round(self.build_seconds, 3), "cached": self.build_cached},
            "scenarios": [s.to_json() for s in self.scenarios],
            "samples": self.samples,
        }


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RunResult:
    backend: str
    postgres: str
    examples: list[ExampleResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # The lifecycle probe's waterfall (harness.probe.run_probe), when the run included it.
    lifecycle_probe: dict[str, Any] | None = None
    started: datetime = field(default_factory=_utc_now)
    finished: datetime = field(default_factory=_utc_now)
    topologies: list[str] = field(default_factory=lambda: ["direct"])   # --via
    # PgBouncer's version when a pooled topology ran ("" otherwise)
    pooler: str = ""
    fixes: dict[str, str] = field(default_factory=dict)   # driver fix name -> the snippet a user pastes
    # The commit the run's tree was at ({"commit": sha, "dirty": bool}; harness.docs.site)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return max(0.0, (self.finished - self.started).total_seconds())

    @property
    def ok(self) -> bool:
        return verdict.run_ok((s.outcome for e in self.examples for s in e.scenarios),
                              (e.outcome for e in self.examples), len(self.errors))

    def to_json(self) -> dict[str, Any]:
        # The per-driver figures are derived from the cases; results.json carries them for readers
        # that do not use harness.reporting.
        from harness.reporting.view import driver_figures
        examples = [e.to_json() for e in self.examples]
        return {
            "schema": 1,
            "backend": self.backend,
            "postgres": self.postgres,
            "topologies": self.topologies,
            "pooler": self.pooler,
            "fixes": self.fixes,
            "commit": self.source.get("commit", ""),
            "dirty": bool(self.source.get("dirty")),
            "started": self.started.isoformat(timespec="seconds"),
            "finished": self.finished.isoformat(timespec="seconds"),
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "examples": examples,
            "lifecycle": {"probe": self.lifecycle_probe, "drivers": driver_figures(examples)},
        }
