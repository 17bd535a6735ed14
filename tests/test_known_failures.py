"""--update-known-failures removes exactly the entries that passed and keeps the rest of the file;
a known failure names the error it must show (harness.expected_error), and a manifest that does
not, or names it wrongly, is refused with the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InputError
from harness.expected_error import ExpectedError, ShownError
from harness.known_failures import rewrite_without, update_known_failures
from harness.manifest import load_manifest
from harness.outcome import ExampleResult, Outcome, RunResult, ScenarioResult

SCENARIOS = ["connect_now", "select_rows", "param_query"]

MANIFEST = """\
# a comment that must survive
id: bad/known
language: bad
title: "t"
driver: {name: x, version: "1"}
run:
  command: ["true"]
scenarios:
  applies: [connect_now, select_rows, param_query]
known_failures:
  - scenario: connect_now
    reason: "still broken upstream"
    link: https://example.invalid/1
    error: {sqlstate: "08P01", message: 'SASL authentication failed'}
  - scenario: select_rows
    reason: "fixed in 2.0"
    error: {reason_code: "differs:data.rows"}
# trailing comment
"""


def _manifest(tmp_path: Path) -> Path:
    folder = tmp_path / "bad" / "known"
    folder.mkdir(parents=True)
    path = folder / "example.yaml"
    path.write_text(MANIFEST)
    return path


def test_removes_only_the_passing_entry(tmp_path: Path) -> None:
    path = _manifest(tmp_path)
    assert rewrite_without(path, {"select_rows"}) == ["select_rows"]
    text = path.read_text()
    assert "# a comment that must survive" in text and "# trailing comment" in text
    example = load_manifest(path, SCENARIOS)
    assert set(example.known_failures) == {"connect_now"}
    assert example.known_failures["connect_now"].link == "https://example.invalid/1"
    assert example.known_failures["connect_now"].expected == ExpectedError(("08P01",), ("SASL authentication failed",))


def test_removing_every_entry_leaves_a_valid_manifest(tmp_path: Path) -> None:
    path = _manifest(tmp_path)
    rewrite_without(path, {"select_rows", "connect_now"})
    assert "known_failures" not in path.read_text()
    assert load_manifest(path, SCENARIOS).known_failures == {}


def test_update_uses_the_xpassed_cases_of_a_run(tmp_path: Path) -> None:
    path = _manifest(tmp_path)
    example = load_manifest(path, SCENARIOS)
    run = RunResult("native", "15", [ExampleResult("bad/known", "bad", "x 1", scenarios=[
        ScenarioResult("connect_now", Outcome.XFAILED), ScenarioResult("select_rows", Outcome.XPASSED)])])
    changes = update_known_failures(run, [example])
    assert len(changes) == 1 and "select_rows" in changes[0]
    assert set(load_manifest(path, SCENARIOS).known_failures) == {"connect_now"}



@pytest.mark.parametrize("error, key, problem, fix", [
    ("", "known_failures[0].error", "is missing: a known failure names the error it must show", "add error: {sqlstate"),
    ('{message: "prepared statement (S_"}', "known_failures[0].error.message",
     "'prepared statement (S_' is not a regular expression: missing ), unterminated subpattern", "fix the pattern"),
    ('{sqlstate: "2600"}', "known_failures[0].error.sqlstate", "'2600' is not a SQLSTATE", 'sqlstate: "08P01"'),
    ("{code: 26000}", "known_failures[0].error.code", "is not a known key", "use one of: sqlstate, message, reason_code"),
    ('"SASL authentication failed"', "known_failures[0].error", "is 'SASL authentication failed', not a mapping",
     "write it as error: {sqlstate"),
    ('{reason_code: "Session SET lost"}', "known_failures[0].error.reason_code", "'Session SET lost' is not a reason code",
     "failure.codes"),
])
def test_a_known_failure_without_a_good_expected_error_is_refused(tmp_path: Path, error: str, key: str, problem: str,
                                                                  fix: str) -> None:
    path = _manifest(tmp_path)
    text = path.read_text().replace("""    error: {sqlstate: "08P01", message: 'SASL authentication failed'}\n""",
                                    f"    error: {error}\n" if error else "")
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        load_manifest(path, SCENARIOS)
    assert (raised.value.file, raised.value.key) == (str(path), key)
    assert raised.value.problem.startswith(problem), raised.value.problem
    assert fix in raised.value.fix


def test_each_key_given_must_be_shown_and_a_list_is_any_of() -> None:
    expected = ExpectedError(("26000", "42P05"), (r'prepared statement "S_\d+"',))
    logged = ShownError("x", sqlstates=("42P05",), text='ERROR 42P05: prepared statement "S_3" already exists')
    assert expected.shown_by(logged) == "SQLSTATE 42P05; message 'prepared statement \"S_3\"'"
    assert expected.shown_by(ShownError("x", sqlstates=("42P05",), text="another message")) is None
    assert expected.shown_by(ShownError("x", text='errors: [\'26000\'] prepared statement "S_1"')) is not None
    assert expected.shown_by(ShownError("x", text='code 260001 prepared statement "S_1"')) is None  # not a word
    coded = ExpectedError(reason_codes=("session_set_lost",))
    assert coded.shown_by(ShownError("x", codes=("session_set_leaked", "session_set_lost"))) == "reason code session_set_lost"
    assert coded.shown_by(ShownError("x", codes=("exit_code",), text="session_set_lost")) is None  # codes, not text
