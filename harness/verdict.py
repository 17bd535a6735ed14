"""The verdict's vocabulary, in one place: the outcomes a case can have, how each shows (glyph,
word, colour), which are bad, which of two is worse, how cases settle an example's standing and
a run's, what pytest makes of each, and the exit code of a run.

`case/judgement.py:judge` decides a case's outcome; everything after it (the run's assembly,
the views, the badges, the pytest plugin, the merge of CI jobs, the exit code) reads the outcome
through this module. It works on outcome values (the strings of results.json) as well as on
`Outcome`, so that the reports can apply the same rules to any results.json."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from harness.exit_codes import ExitCode


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
        return is_bad(self.value)


PASSED, FAILED, SKIPPED, NOT_APPLICABLE, XFAILED, XPASSED = (o.value for o in (
    Outcome.PASSED, Outcome.FAILED, Outcome.SKIPPED, Outcome.NOT_APPLICABLE, Outcome.XFAILED, Outcome.XPASSED))
# The reports' order (chips, counts).
OUTCOMES = (PASSED, FAILED, XPASSED, XFAILED, SKIPPED, NOT_APPLICABLE)
BAD = (FAILED, XPASSED)
# Worst first. The bad ones, then a case that was not declared (it counts against "passing"),
# then a known failure (it counts as passing), a pass, and a case that does not apply.
SEVERITY = (FAILED, XPASSED, SKIPPED, XFAILED, PASSED, NOT_APPLICABLE)


def value_of(outcome: str) -> str:
    return outcome.value if isinstance(outcome, Outcome) else str(outcome)


def is_bad(outcome: str) -> bool:
    return value_of(outcome) in BAD


def rank(outcome: str) -> int:
    """Lower is worse; an outcome this vocabulary does not know ranks worst (never hidden)."""
    value = value_of(outcome)
    return SEVERITY.index(value) if value in SEVERITY else -1


# -- how an outcome shows ---------------------------------------------------------------------

@dataclass(frozen=True)
class Look:
    """How an outcome shows: a symbol AND a word (never colour alone)."""

    symbol: str   # the page's cell
    word: str     # beside the symbol, unless it passed
    short: str    # the terminal's matrix cell
    css: str      # the page's class
    style: str    # the terminal's colour
    total: str    # the page's totals: "3 known failures"


LOOKS: dict[str, Look] = {
    PASSED: Look("✔", "passed", "✔", "passed", "green", "passed"),
    FAILED: Look("✘", "failed", "✘ FAIL", "failed", "bold red", "failed"),
    XPASSED: Look("✘", "XPASS", "✘ XPASS", "xpassed", "bold magenta", "xpassed"),
    XFAILED: Look("✔", "xfail", "✔ xfail", "xfailed", "cyan", "known failures"),
    SKIPPED: Look("−", "skipped", "- skip", "skipped", "yellow", "skipped"),
    NOT_APPLICABLE: Look("·", "n/a", "· n/a", "na", "dim", "n/a"),
}


def look(outcome: str) -> Look:
    value = value_of(outcome)
    return LOOKS.get(value) or Look("?", value, f"? {value}", "na", "", value)


# What pytest makes of a case: a passed test, a failure, a skip with its reason, an xfail.
PYTEST = {PASSED: "pass", FAILED: "fail", XPASSED: "fail", XFAILED: "xfail", SKIPPED: "skip", NOT_APPLICABLE: "skip"}


def action_in_pytest(outcome: str) -> str:
    return PYTEST.get(value_of(outcome), "fail")


# -- an example's and a run's standing --------------------------------------------------------

def example_outcome(cases: Iterable[str], *, failed_whole: bool = False) -> Outcome:
    """An example's own outcome: failed when any case is bad, or when it failed whole (its
    toolchain is missing, or a job of a merge said it failed)."""
    return Outcome.FAILED if failed_whole or any(is_bad(c) for c in cases) else Outcome.PASSED


def failing_reason(bad_names: Iterable[str]) -> str:
    names = list(dict.fromkeys(bad_names))
    return "failed: " + ", ".join(names) if names else ""


def run_ok(case_outcomes: Iterable[str], example_outcomes: Iterable[str], errors: int) -> bool:
    """A run is green when it had no run-level error, no bad case and no failed example."""
    return not errors and not any(is_bad(o) for o in case_outcomes) \
        and not any(value_of(o) == FAILED for o in example_outcomes)


def exit_code(ok: bool, errors: int, manifest_errors: int) -> ExitCode:
    """A run-level error outranks a broken manifest (itself one of the run's errors), which
    outranks a failed case."""
    if errors > manifest_errors:
        return ExitCode.INTERNAL_ERROR
    if manifest_errors:
        return ExitCode.USAGE_ERROR
    return ExitCode.OK if ok else ExitCode.CASES_FAILED


@dataclass(frozen=True)
class Tally:
    """The applicable cases (everything but n/a) of one example or of the whole run."""

    counts: Counter[str]

    @classmethod
    def of(cls, outcomes: Iterable[str]) -> "Tally":
        return cls(Counter(value_of(o) for o in outcomes))

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


@dataclass(frozen=True)
class Standing:
    """An example's or the run's verdict in a few words, with a shields.io colour name."""

    label: str
    message: str
    color: str

    @property
    def ok(self) -> bool:
        return self.color != "red"


def standing(label: str, tally: Tally, *, outcome: str = "", errors: int = 0) -> Standing:
    """`outcome`: the example's own (or FAILED when any example of a run failed)."""
    if tally.bad:
        return Standing(label, f"{tally.bad} failing", "red")
    if value_of(outcome) == FAILED or errors:
        return Standing(label, "error" if errors else "failing", "red")
    if tally.total == 0:
        return Standing(label, "skipped" if value_of(outcome) == SKIPPED else "no cases", "lightgrey")
    return Standing(label, f"{tally.passing}/{tally.total} passing",
                    "brightgreen" if tally.passing == tally.total else "yellow")
