"""--update-known-failures removes exactly the entries that passed and keeps the rest of the file."""

from __future__ import annotations

from pathlib import Path

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
  - scenario: select_rows
    reason: "fixed in 2.0"
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

