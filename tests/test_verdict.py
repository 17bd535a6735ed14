"""The one verdict (harness.verdict): a merge of CI jobs never hides a failure, over every pair of
outcomes; badges of examples and of page blocks share a folder without deleting each other."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from harness import verdict
from harness.reporting.__main__ import merge
from harness.reporting.badges import write_badges
from harness.reporting.view import example_standing


def _run(outcome: str, topology: str = "direct") -> dict:
    example_outcome = verdict.example_outcome([outcome]).value
    return {"examples": [{"id": "node/pg-pool", "outcome": example_outcome, "reason": "", "scenarios": [
        {"name": "connect_now", "topology": topology, "outcome": outcome, "message": f"it {outcome}"}]}]}


@pytest.mark.parametrize("first, second", list(itertools.product(verdict.SEVERITY, repeat=2)))
def test_the_same_case_from_two_jobs_keeps_the_worse_outcome_and_says_so(first: str, second: str) -> None:
    example = merge([_run(first), _run(second)])["examples"][0]
    [case] = example["scenarios"]
    worse = first if verdict.rank(first) < verdict.rank(second) else second
    assert case["outcome"] == worse
    assert case["notes"] and case["notes"][-1].startswith("merged: two jobs ran this case")
    assert (example["outcome"] == "failed") == (verdict.is_bad(first) or verdict.is_bad(second))
    assert example_standing(example).ok == (not (verdict.is_bad(first) or verdict.is_bad(second)))


@pytest.mark.parametrize("first, second", list(itertools.product(verdict.SEVERITY, repeat=2)))
def test_a_direct_job_and_a_pooled_job_add_up_and_a_failure_stays(first: str, second: str) -> None:
    example = merge([_run(first), _run(second, "pgbouncer-transaction")])["examples"][0]
    assert [c["outcome"] for c in example["scenarios"]] == [first, second]
    assert (example["outcome"] == "failed") == (verdict.is_bad(first) or verdict.is_bad(second))
    if example["outcome"] == "failed":
        assert example["reason"] == "failed: connect_now"


def test_example_badges_and_sample_badges_do_not_delete_each_other(tmp_path: Path) -> None:
    badges = tmp_path / "badges"
    badges.mkdir()
    (badges / "sample-connect.svg").write_text("<svg/>")
    (badges / "sample-connect.json").write_text("{}")
    (badges / "gone-example.json").write_text("{}")   # an example of an earlier run: stale
    write_badges(_run("failed"), tmp_path)
    names = sorted(p.name for p in badges.iterdir())
    assert names == ["node-pg-pool.json", "node-pg-pool.svg", "overall.json", "overall.svg",
                     "sample-connect.json", "sample-connect.svg"]
    assert json.loads((badges / "node-pg-pool.json").read_text())["color"] == "red"


def test_sample_badges_keep_the_example_badges(tmp_path: Path) -> None:
    from harness.docs.samples import write_samples
    write_badges(_run("passed"), tmp_path)
    (tmp_path / "badges" / "sample-old.svg").write_text("<svg/>")
    write_samples({"schema": 1, "run": {}, "blocks": [
        {"tag": "connect", "badge": "badges/sample-connect.svg", "outcome": "1/1 passing", "color": "brightgreen"}]},
        tmp_path)
    names = sorted(p.name for p in (tmp_path / "badges").iterdir())
    assert names == ["node-pg-pool.json", "node-pg-pool.svg", "overall.json", "overall.svg",
                     "sample-connect.json", "sample-connect.svg"]
