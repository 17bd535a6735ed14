"""Statement counts judged on a real server: each wrong example sends too many statements, or the
wrong one, and fails with a message naming the statement's shape; good/reference, with the same
plumbing, passes the same scenarios."""

from __future__ import annotations

import pytest

from harness.outcome import Outcome
from tests.support import BadRun, problems_of


@pytest.mark.parametrize("scenario", ["select_rows", "active_users", "related_rows"])
def test_the_reference_passes_with_its_statements_counted(bad: BadRun, scenario: str) -> None:
    result = bad.case("good/reference", scenario)
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
    assert result.observed["statements"]["work"] >= 1


def test_a_query_per_user_is_an_n_plus_one(bad: BadRun) -> None:
    result = bad.case("bad/n-plus-one", "related_rows")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == [
        "6 statements for the work of related_rows, at most 2 allowed (spec max_statements): "
        "`SELECT user_id, symbol, shares FROM holdings WHERE user_id = $1 ORDER BY id` ran 5 times, a query "
        "repeated per row (an N+1); load them in one query (a JOIN, `= ANY($1)`, or the ORM's eager loading)"]
    assert "statements: 6 of work" in result.failure.server_view


def test_fetching_every_user_and_filtering_in_the_language_fails(bad: BadRun) -> None:
    result = bad.case("bad/fetch-all-filter", "active_users")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == [
        "`SELECT id, name, active FROM users ORDER BY id` has no filter on active: it fetched every user and "
        "filtered in bad; put the filter in the SQL (WHERE active) so the server sends only the active users"]


def test_a_query_repeated_per_row_is_named(bad: BadRun) -> None:
    result = bad.case("bad/query-per-row", "select_rows")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result)[0] == (
        "9 statements for the work of select_rows, at most 1 allowed (spec max_statements): "
        "`SELECT name FROM users WHERE id = $1` ran 8 times, a query repeated per row (an N+1); load them in "
        "one query (a JOIN, `= ANY($1)`, or the ORM's eager loading)")
