"""Judgement: the one place where a case's Outcome is decided. Every path of a case (not
applicable, not declared, toolchain missing, build failed, ran and verified) ends as a Finding,
and judge() turns it, with the example's known-failure list, into a ScenarioResult. Nothing after
it changes an outcome: the runner, the CLI, the pytest plugin and the reports only read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.manifest import Example, KnownFailure
from harness.outcome import Failure, Outcome, ScenarioResult

OUTPUT_TAIL_CHARS = 8000


@dataclass(frozen=True)
class Finding:
    """What a case found, before judgement. `problems` empty: it did what the spec asks."""

    scenario: str
    problems: tuple[str, ...] = ()
    not_applicable: str | None = None   # the manifest's reason: the case does not apply
    undeclared: str | None = None       # why it was skipped: the manifest does not declare it
    diff: str = ""
    observed: Mapping[str, Any] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    stderr_tail: str = ""
    server_view: str = ""
    reproduce: str = ""
    seconds: float = 0.0
    started: float | None = None        # time.monotonic() when it got its turn at the server (harness.gate)
    topology: str = "direct"            # harness.pooler: what the case ran through


def judge(example: Example, finding: Finding, *, prune_known_failures: bool = False,
          known_behind_pooler: KnownFailure | None = None) -> ScenarioResult:
    """The Outcome of one case. `prune_known_failures` (--update-known-failures): a listed known
    failure that passed is simply passed, since its entry is being removed.
    `known_behind_pooler`: a known incompatibility of the case's pooled topology (spec/pgbouncer.yaml)."""
    name = finding.scenario
    if finding.not_applicable is not None:
        return ScenarioResult(name, Outcome.NOT_APPLICABLE, message=finding.not_applicable, topology=finding.topology)
    if finding.undeclared is not None:
        return ScenarioResult(name, Outcome.SKIPPED, message=finding.undeclared, topology=finding.topology)
    result = ScenarioResult(name, Outcome.PASSED, seconds=finding.seconds, started=finding.started, observed=dict(finding.observed),
                            topology=finding.topology,
                            stdout=finding.stdout[-OUTPUT_TAIL_CHARS:], stderr=finding.stderr)  # stderr: bounded by the pipeline (start and end)
    if finding.problems:
        summary = finding.problems[0]
        result.outcome, result.message = Outcome.FAILED, summary
        result.failure = Failure(summary=summary, problems=list(finding.problems[1:]), diff=finding.diff,
                                 stderr_tail=finding.stderr_tail, server_view=finding.server_view,
                                 reproduce=finding.reproduce)
    known = known_behind_pooler or example.known_failures.get(name)
    if known is None:
        return result
    if result.outcome is Outcome.FAILED and known.error and not any(
            _shows(result, finding, error) for error in (known.error, *known.also)):
        result.message = (f"failed, but without the documented error {known.error!r} of its known failure "
                          f"({known.reason}) | {result.message}")
        return result
    if result.outcome is Outcome.FAILED:
        result.outcome = Outcome.XFAILED
        result.message = f"known failure: {known.reason} {known.link}".strip() + f" | {result.message}"
    elif prune_known_failures:
        result.message = "passed (removed from known_failures)"
    elif known.intermittent:
        result.message = f"passed this run; known to fail in some runs: {known.reason} {known.link}".strip()
    elif known_behind_pooler is not None:
        result.outcome = Outcome.XPASSED
        result.message = (f"listed as a known incompatibility behind PgBouncer ({known.reason}) but it passed: "
                          "remove it from spec/pgbouncer.yaml")
    else:
        result.outcome = Outcome.XPASSED
        result.message = (f"listed as a known failure ({known.reason}) but it passed: remove it from "
                          f"known_failures in {example.manifest} (or run with --update-known-failures)")
    return result


def _shows(result: ScenarioResult, finding: Finding, text: str) -> bool:
    """Whether the failure shows `text`: its summary, its problems, or the example's stderr."""
    return any(text in part for part in (*finding.problems, finding.stderr, finding.stderr_tail, result.stdout))
