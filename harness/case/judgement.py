"""Judgement: the one place where a case's Outcome is decided. Every path of a case (not
applicable, not declared, toolchain missing, build failed, ran and verified) ends as a Finding,
and judge() turns it, with the example's known-failure list, into a ScenarioResult. Nothing after
it changes an outcome: the runner, the CLI, the pytest plugin and the reports only read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.expected_error import ShownError
from harness.manifest import Example, KnownFailure
from harness.outcome import Failure, Outcome, ScenarioResult

OUTPUT_TAIL_CHARS = 8000


@dataclass(frozen=True)
class Finding:
    """What a case found, before judgement. `problems` empty: it did what the spec asks."""

    scenario: str
    problems: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()         # the problems' reason codes (harness.scenarios.base.Verdict), "" for none
    sqlstates: tuple[str, ...] = ()     # what the server logged (ERROR/FATAL) and the data reported
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
                                 reproduce=finding.reproduce, codes=[c for c in dict.fromkeys(finding.codes) if c],
                                 sqlstates=list(finding.sqlstates))
    known = known_behind_pooler or example.known_failures.get(name)
    if known is None:
        return result
    if result.outcome is Outcome.FAILED:
        assert result.failure is not None
        shown = shown_error(result, finding)
        matched = known.expected.shown_by(shown)
        if matched is None:
            # Not the failure it is known for: a failure, naming what was expected and what it showed.
            mismatch = (f"failed for another reason than its known failure ({known.reason}): expected "
                        f"{known.expected.describe()}; it showed {shown.describe()}")
            result.message = f"{mismatch} | {result.message}"
            result.failure.problems.insert(0, result.failure.summary)
            result.failure.summary = mismatch
            return result
        result.outcome = Outcome.XFAILED
        result.message = f"known failure: {known.reason} {known.link}".strip() + f" | {result.message}"
        result.known_failure = known_failure_json(known, matched)
    elif prune_known_failures:
        result.message = "passed (removed from known_failures)"
    elif known.intermittent:
        result.message = f"passed this run; known to fail in some runs: {known.reason} {known.link}".strip()
    elif known_behind_pooler is not None:
        result.outcome = Outcome.XPASSED
        result.message = (f"listed as a known incompatibility behind PgBouncer ({known.reason}) but it passed: "
                          f"remove it from {known.source.rpartition(': ')[0] or 'spec/pgbouncer.yaml'}")
    else:
        result.outcome = Outcome.XPASSED
        result.message = (f"listed as a known failure ({known.reason}) but it passed: remove it from "
                          f"known_failures in {example.manifest} (or run with --update-known-failures)")
    return result


def shown_error(result: ScenarioResult, finding: Finding) -> ShownError:
    """What the failure showed, for its known failure's expected error to be matched against."""
    text = "\n".join((*finding.problems, finding.stderr, finding.stderr_tail, result.stdout, finding.server_view))
    assert result.failure is not None
    return ShownError(finding.problems[0], tuple(result.failure.codes), finding.sqlstates, text)


def known_failure_json(known: KnownFailure, matched: str) -> dict[str, str]:
    """An xfail's reason for the reports: why it is known, where it is declared, what it showed."""
    return {"reason": known.reason, "link": known.link, "declared_in": known.source,
            "expected": known.expected.describe(), "shown": matched}
