"""Each check of a case is proven by a deliberately wrong example that it must catch, with its
specific message; good/reference, built from the same plumbing, must pass, so that every
failure below comes from the one deliberate mistake and not from the test's own plumbing."""

from __future__ import annotations

import re

import pytest

from harness.outcome import Outcome
from tests.support import BadRun, lock_released_within, problems_of


def test_the_wrong_examples_have_valid_manifests(bad: BadRun) -> None:
    assert [e.render() for e in bad.session.catalog.discovery.errors] == []
    ids = {e.id for e in bad.session.examples}
    assert {"good/reference", "bad/wrong-output", "bad/crash", "bad/hang", "bad/pool-leak"} <= ids


@pytest.mark.parametrize("scenario", ["connect_now", "select_rows"])
def test_the_reference_example_passes(bad: BadRun, scenario: str) -> None:
    result = bad.case("good/reference", scenario)
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
    assert result.observed["connections_opened"] == 1


def test_wrong_output_is_a_failed_case_with_a_diff_of_both_names(bad: BadRun) -> None:
    result = bad.case("bad/wrong-output", "select_rows")
    assert result.outcome is Outcome.FAILED
    assert result.message == "data.rows differs from the spec"
    assert result.failure is not None
    diff = result.failure.diff
    assert re.search(r"^-\s+\"name\": \"Zoë O'Connor\"", diff, re.M), diff
    assert re.search(r"^\+\s+\"name\": \"Zoe O'Connor\"", diff, re.M), diff
    # Only the mangled row differs: no other name shows as removed.
    assert [line for line in diff.splitlines() if line.startswith("-") and "name" in line] == \
        ['-    "name": "Zoë O\'Connor"']
    assert "python -m harness run --example bad/wrong-output --scenario select_rows" == result.failure.reproduce
    assert "expected vs actual" in result.failure.render()


def test_a_crash_is_reported_with_its_exit_code_and_stderr(bad: BadRun) -> None:
    result = bad.case("bad/crash", "connect_now")
    assert result.outcome is Outcome.FAILED
    assert result.message == "exited with code 1"
    assert result.failure is not None
    assert "RuntimeError: deliberate crash after SELECT now()" in result.failure.stderr_tail
    assert "connections opened: 1" in result.failure.server_view


def test_a_hang_times_out_and_its_child_dies_with_it(bad: BadRun) -> None:
    pid_file = bad.state_dir / "hang-child.pid"
    pid_file.unlink(missing_ok=True)
    result = bad.case("bad/hang", "connect_now")
    assert result.outcome is Outcome.FAILED
    # run.timeout_seconds: 2 in its manifest, not the scenario's 30 s.
    assert result.message == "timed out after 2 s; its process group was killed"
    assert result.observed["process_seconds"] < 2 + 3
    child = int(pid_file.read_text())  # a pid inside the case's PID namespace; the lock tells
    assert lock_released_within(bad.state_dir / "hang-child.lock"), f"the example's child {child} outlived the timeout"


def test_a_missing_toolchain_fails_with_the_install_hint_and_runs_nothing(bad: BadRun) -> None:
    result = bad.case("bad/no-toolchain", "connect_now")
    assert result.outcome is Outcome.FAILED
    assert result.message == ("toolchain missing: definitely-not-installed-tool: MISSING; install: "
                              "apt-get install -y definitely-not-installed-tool (see https://example.invalid/install)")
    assert not (bad.state_dir / "no-toolchain-ran").exists()


def test_output_made_up_without_connecting_is_caught_by_the_server_log(bad: BadRun) -> None:
    result = bad.case("bad/fake-now", "connect_now")
    assert result.outcome is Outcome.FAILED
    # The made-up time is plausible: the only problem is that the server never saw the example.
    assert problems_of(result) == [
        "the server saw no connection from this example's role: the output did not come from the server"]
    assert result.observed["connections_opened"] == 0


def test_human_output_on_stdout(bad: BadRun) -> None:
    result = bad.case("bad/chatty", "connect_now")
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("printed 1 line(s) on stdout that are not JSON objects, first: "
                                     "'Connected to PostgreSQL, server time is ")
    assert result.message.endswith("(human output belongs on stderr)")
    assert len(problems_of(result)) == 1  # the result line itself was fine


def test_nothing_on_stdout(bad: BadRun) -> None:
    result = bad.case("bad/silent", "connect_now")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == ["printed nothing on stdout"]


def test_result_on_stderr_only(bad: BadRun) -> None:
    result = bad.case("bad/stderr-only", "connect_now")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == ["printed nothing on stdout (it wrote only to stderr)"]
    assert '"type": "result"' in result.stderr


def test_half_a_line(bad: BadRun) -> None:
    result = bad.case("bad/half-line", "connect_now")
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("stdout ended in half a line: '{\"type\": \"result\", \"scenario\": \"connect_now\"")
    assert result.message.endswith("(end each line with a newline)")


def test_a_flood_of_stdout_is_cut_at_one_mebibyte(bad: BadRun) -> None:
    result = bad.case("bad/flood", "connect_now")
    assert result.outcome is Outcome.FAILED
    # Every line of the flood ends in a newline: the cut is the harness's, not "half a line".
    assert result.message == "flooded stdout: output beyond 1 MiB was discarded"
    assert not any("half a line" in p for p in problems_of(result))
    assert len(result.stdout) <= 8000  # only the tail goes into the report


def test_a_known_failure_that_passes_is_xpassed(bad: BadRun) -> None:
    result = bad.case("bad/known", "connect_now")
    assert result.outcome is Outcome.XPASSED
    assert result.outcome.is_bad
    assert result.message.startswith("listed as a known failure (listed, but the example does it right) but it passed: "
                                     "remove it from known_failures in ")
    assert result.message.endswith("bad/known/example.yaml (or run with --update-known-failures)")


def test_a_known_failure_that_fails_is_xfailed(bad: BadRun) -> None:
    result = bad.case("bad/known", "select_rows")
    assert result.outcome is Outcome.XFAILED
    assert not result.outcome.is_bad
    assert result.message == ("known failure: the driver drops diacritics https://example.invalid/issues/2"
                              " | data.rows differs from the spec")


def test_undeclared_scenarios_are_skipped_with_the_fix(bad: BadRun) -> None:
    result = bad.case("bad/crash", "types")
    assert result.outcome is Outcome.SKIPPED
    assert result.message == ("not declared in bad_examples/bad/crash/example.yaml: "
                              "add it under scenarios.applies or scenarios.not_applicable")


def test_a_known_failure_that_fails_for_another_reason_is_failed_naming_both(bad: BadRun) -> None:
    result = bad.case("bad/known-elsewhere", "select_rows")
    assert result.outcome is Outcome.FAILED
    assert result.message.startswith("failed for another reason than its known failure (the driver cannot encode ë "
                                     "and the server refuses the name): expected SQLSTATE 22021 and a message matching "
                                     "'invalid byte sequence for encoding'; it showed 'data.rows differs from the spec' "
                                     "(reason codes: differs:data.rows; SQLSTATEs: none)"), result.message
    assert result.failure is not None and result.failure.codes == ["differs:data.rows"]
