"""The session_set check on a real server: a wrong example that reports the value it SET instead of
reading it back fails (the statement log has no read back), while every page example, which
reads it, passes, as good/reference does with the same plumbing."""

from __future__ import annotations

from harness.outcome import Outcome
from tests.support import BadRun, problems_of


def test_the_reference_reads_the_setting_back_and_passes(bad: BadRun) -> None:
    result = bad.case("good/reference", "session_set")
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
    sessions = result.observed["server_sessions"]
    assert sessions["reads"][1] == sessions["set"] != sessions["reads"][0]


def test_a_session_set_reported_without_reading_it_back_fails(bad: BadRun) -> None:
    result = bad.case("bad/session-set-unread", "session_set")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == [
        "the server saw 1 read(s) of harness.marker after the SET, expected one per client (current_setting or "
        "SHOW): report what the server answers, not the value that was set"]
