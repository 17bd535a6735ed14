"""The cutover story's checks with a fake (tests/fakes.py, no PostgreSQL, no PgBouncer): what the
harness does at the example's checkpoint, and each way a ledger on the two servers can
contradict the example's report. tests/test_bad_cutover.py runs them on the real things."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenarios.cutover import StoryPauseResumeCutover, latency_figures
from tests.fakes import FakeControls, check_for, verify

POOLED = "pgbouncer-transaction"
OLD = [1000001, 1000002, 2000001, 2000002]
NEW = [1000003, 1000004, 2000003]


@pytest.fixture(autouse=True)
def no_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit case holds its pause for seconds; the fake needs no wait."""
    monkeypatch.setattr("harness.scenarios.cutover.time.sleep", lambda _seconds: None)


def stream(acknowledged: list[int], failed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"acknowledged": acknowledged, "failed": failed or [],
            "latency_ms": [[i, 1000.0 if i % 1000000 == 1 else 5.0 + i % 7] for i in acknowledged]}


def controls(old: list[int], new: list[int], gone: tuple[bool, float, int] = (True, 0.1, 0)) -> FakeControls:
    return FakeControls(rows={"FROM ledger": [(i,) for i in old]}, target_rows={"FROM ledger": [(i,) for i in new]},
                        gone=gone)


def cutover(fake: FakeControls, scenario: str = "story_pause_resume_cutover") -> StoryPauseResumeCutover:
    check = check_for(scenario, fake, topology=POOLED)
    assert isinstance(check, StoryPauseResumeCutover)
    check.prepare()
    check.on_checkpoint("streaming")
    return check


def test_the_cutover_pauses_repoints_and_resumes_at_the_checkpoint() -> None:
    fake = controls(OLD, NEW)
    cutover(fake)
    steps = [name for name, _ in fake.actions if name in ("cutover_target", "pause", "route_to_target", "resume")]
    assert steps == ["cutover_target", "pause", "route_to_target", "resume"]
    assert sum(1 for name, sql in fake.actions if name in ("query", "query_target") and "CREATE TABLE ledger" in sql) == 2


def test_every_acknowledged_id_on_exactly_one_server_passes_with_the_figures() -> None:
    fake = controls(OLD, NEW)
    verdict = verify(cutover(fake), stream(OLD + NEW))
    assert verdict.problems == []
    figures = verdict.observed["cutover"]
    assert (figures["on_old_server"], figures["on_new_server"], figures["lost"], figures["twice"]) == (4, 3, 0, 0)
    assert figures["max_latency_ms"] == 1000.0 and figures["max_latency_warm_ms"] < 20   # each writer's first excluded
    assert figures["pause_window_ms"] >= 0 and figures["page"].startswith("3 seconds")


def test_an_acknowledged_id_on_no_server_is_lost() -> None:
    verdict = verify(cutover(controls(OLD, NEW)), stream(OLD + NEW + [2000004]))
    assert verdict.problems == ["1 acknowledged ids are on neither server (lost), e.g. [2000004]"]


def test_an_id_on_both_servers_and_a_row_nobody_reported_are_caught() -> None:
    verdict = verify(cutover(controls(OLD, NEW + [1000002, 2000004])), stream(OLD + NEW))
    assert "1 ids are on both servers, e.g. [1000002]" in verdict.problems
    assert any(p.startswith("1 ledger rows were committed but never reported, e.g. [2000004]") for p in verdict.problems)


def test_a_write_after_resume_on_the_old_server_breaks_the_writers_order() -> None:
    verdict = verify(cutover(controls(OLD + [1000005], NEW)), stream(OLD + NEW + [1000005]))
    assert verdict.problems == ["writer 1: id 1000005 is on the old server, after id 1000003 on the new one "
                                "(a write after RESUME landed on the old server)"]
    nothing_new = verify(cutover(controls(OLD + NEW, [])), stream(OLD + NEW))
    assert "writer 1: none of its writes landed on the new server" in nothing_new.problems


def test_a_client_visible_error_and_connections_left_on_the_old_server_fail_the_cutover() -> None:
    failed = [{"id": 2000004, "sqlstate": "08P01", "message": "query_wait_timeout"}]
    verdict = verify(cutover(controls(OLD, NEW, gone=(False, 5.0, 2))), stream(OLD + NEW, failed))
    assert "1 transactions failed, visible to the client: {'08P01: query_wait_timeout': 1}" in verdict.problems
    assert "2 connections of PgBouncer to the old server were still open 5.0 s after the run (pg_stat_activity)" in verdict.problems


def test_the_limit_case_sets_query_wait_timeout_and_needs_the_cut_off() -> None:
    fake = controls(OLD, NEW)
    check = cutover(fake, "story_pause_resume_limit")
    assert ("pooler_configure", ("query_wait_timeout", "1")) in fake.actions and check.exclusive
    cut = [{"id": 2000004, "sqlstate": "08P01", "message": "query_wait_timeout"},
           {"id": 1000005, "sqlstate": None, "message": "server closed the connection unexpectedly"}]
    verdict = verify(check, stream(OLD + NEW, cut))
    assert verdict.problems == [] and verdict.observed["cutover"]["cut_off"] == 1
    assert verdict.observed["cutover"]["query_wait_timeout_s"] == "1"
    swallowed = verify(cutover(controls(OLD, NEW), "story_pause_resume_limit"), stream(OLD + NEW))
    assert swallowed.problems[0].startswith("no client reported PgBouncer's query_wait_timeout")


def test_the_limit_case_rejects_other_errors_and_failed_writes_that_committed() -> None:
    failed = [{"id": 2000004, "sqlstate": "08P01", "message": "query_wait_timeout"},
              {"id": 1000005, "sqlstate": "26000", "message": 'prepared statement "S_1" does not exist'}]
    verdict = verify(cutover(controls(OLD, NEW + [2000004]), "story_pause_resume_limit"), stream(OLD + NEW, failed))
    assert any(p.startswith("1 transactions failed with errors other than a cut-off connection") for p in verdict.problems)
    assert "transactions the client saw fail were committed: [2000004]" in verdict.problems


def test_the_story_is_not_applicable_straight_to_the_server_or_in_session_pooling() -> None:
    assert "needs PgBouncer" in (StoryPauseResumeCutover.not_behind("direct") or "")
    assert "PAUSE does not return" in (StoryPauseResumeCutover.not_behind("pgbouncer-session") or "")
    assert StoryPauseResumeCutover.not_behind("pgbouncer-transaction") is None
    assert StoryPauseResumeCutover.not_behind("pgbouncer-transaction+prepareThreshold=0") is None


def test_a_report_without_latencies_or_ids_is_refused() -> None:
    assert latency_figures([]) is None and latency_figures([[1, 2, 3]]) is None
    verdict = verify(cutover(controls(OLD, NEW)), {"acknowledged": ["1"], "failed": []})
    assert verdict.problems[0].startswith("data.acknowledged must list the ids")


def test_the_reports_show_the_story_beside_the_pages_figure() -> None:
    from harness.reporting.cutover_view import cutover_rows, cutover_section

    figures = {"page": "3 seconds, no dropped transactions",
               "pause_window_ms": 150.4, "pause_returned_ms": 20.1, "max_latency_warm_ms": 1101.9, "acknowledged": 7,
               "on_old_server": 4, "on_new_server": 3, "lost": 0, "twice": 0, "errors": {}}
    limit = {**figures, "query_wait_timeout_s": "1", "cut_off": 2, "errors": {"08P01: query_wait_timeout": 2}}
    run = {"examples": [{"id": "fake/pool", "scenarios": [
        {"name": "story_pause_resume_cutover", "topology": POOLED, "outcome": "passed", "observed": {"cutover": figures}},
        {"name": "story_pause_resume_limit", "topology": POOLED, "outcome": "passed", "observed": {"cutover": limit}},
        {"name": "connect_now", "outcome": "passed", "observed": {}}]}]}
    story, cut = cutover_rows(run)
    assert "pause window 150.4 ms" in story.line() and "errors: none" in story.line()
    assert cut.is_limit and "2 clients cut off" in cut.line() and "2 × 08P01: query_wait_timeout" in cut.line()
    html = cutover_section(run)
    assert "3 seconds" in html and html.count("<tr>") == 3 and "1101.9" in html
    assert cutover_section({"examples": []}) == ""


def test_pgjdbcs_named_statements_are_the_java_samples_known_failure_of_the_story() -> None:
    from harness.pooler.known import known_behind_pooler
    from tests.fakes import SPEC_LOADED
    from tests.support import SPEC

    names = tuple(SPEC_LOADED.names)
    for scenario in ("story_pause_resume_cutover", "story_pause_resume_limit"):
        known = known_behind_pooler(SPEC, names, "java/hikaricp", scenario, POOLED)
        assert known is not None and 'prepared statement "S_' in str(known)
        assert known_behind_pooler(SPEC, names, "node/pg-pool", scenario, POOLED) is None


def test_the_cutover_line_quotes_the_page_beside_the_window_and_shows_the_fix_a_user_pastes() -> None:
    from harness.reporting.cutover_view import cutover_rows, cutover_section

    snippet = "jdbc:postgresql://host:6432/db?prepareThreshold=0"
    figures = {"page": "3 seconds, no dropped transactions",
               "page_quote": "The entire cutover took 3 seconds, with no dropped transactions.",
               "pause_window_ms": 150.4, "pause_returned_ms": 20.1, "max_latency_warm_ms": 31.0, "acknowledged": 7,
               "on_old_server": 4, "on_new_server": 3, "lost": 0, "twice": 0, "errors": {}}
    run = {"fixes": {"prepareThreshold=0": snippet}, "examples": [{"id": "java/hikaricp", "scenarios": [
        {"name": "story_pause_resume_cutover", "topology": POOLED + "+prepareThreshold=0", "outcome": "passed",
         "observed": {"cutover": figures}}]}]}
    (row,) = cutover_rows(run)
    assert row.line() == (f"java/hikaricp@{POOLED}+prepareThreshold=0 (in your code: {snippet}): pause window "
                          "150.4 ms (PAUSE returned in 20.1 ms); longest transaction 31.0 ms; 7 acknowledged (4 old + "
                          "3 new server), lost 0, twice 0; errors: none [passed]; the page: \"3 seconds, no dropped "
                          "transactions\" (not asserted)")
    html = cutover_section(run)
    assert "The entire cutover took 3 seconds, with no dropped transactions." in html and f"<code>{snippet}" in html
    unrecorded = {"examples": [{"id": "x", "scenarios": [{"name": "story_pause_resume_cutover", "topology": POOLED,
                                                           "outcome": "passed", "observed": {"cutover": {
                                                               k: v for k, v in figures.items() if "page" not in k}}}]}]}
    assert "the page" not in cutover_rows(unrecorded)[0].line() and "3 seconds" not in cutover_section(unrecorded)
