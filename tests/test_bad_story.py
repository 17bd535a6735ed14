"""The page's first story (story_pool_exhaustion) on the real server and the real PgBouncer, proven
by three deliberately wrong implementations: services that share one pool instead of one each,
a refused connection (53300) swallowed and reported as a served request, and the old load that
sleeps instead of working on the server. good/reference, with one
pool per service, passes both halves (straight to the server, and through PgBouncer in
transaction mode)."""

from __future__ import annotations

import psycopg
import pytest

from harness.janitor import CaseDatabase
from harness.outcome import Outcome
from tests.support import BadRun, problems_of

SCENARIO = "story_pool_exhaustion"
POOLED = "pgbouncer-transaction"


@pytest.mark.parametrize("topology", ["direct", POOLED])
def test_one_pool_per_service_passes_both_halves(bad: BadRun, topology: str) -> None:
    result = bad.case("good/reference", SCENARIO, topology)
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
    figures = result.observed["pool_exhaustion"]
    if topology == "direct":
        assert figures["server_refusals"] > 0 and figures["retries"] > 0 and figures["peak_backends"] == 40
    else:
        assert figures["refused"] == 0 and figures["peak_backends"] <= 40 and figures["pooler_client_peak"] == 20


def test_one_shared_pool_never_exhausts_the_budget(bad: BadRun) -> None:
    result = bad.case("bad/story-one-pool", SCENARIO)
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == [
        "the server refused no connection (53300) under a budget of 40: the services' pools never outgrew it "
        "(4 independent pools of 20 expected)",
        "the server's backends peaked at 20 (connection log), not at the budget of 40: the pools did not exhaust it"]


def test_one_shared_pool_shows_at_pgbouncer_as_one_pools_clients(bad: BadRun) -> None:
    result = bad.case("bad/story-one-pool", SCENARIO, POOLED)
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[-1] == ("the example had 5 client connection(s) open at once at PgBouncer: 4 independent pools "
                            "of 5 have more than one pool's 5 and at most 20")
    # One pool of 5 for the load of four also gives up on requests waiting too long for it.
    assert all(p.startswith("through PgBouncer 0 request(s) were refused and ") for p in problems[:-1]), problems


def test_a_swallowed_refusal_is_caught_by_the_servers_count(bad: BadRun) -> None:
    result = bad.case("bad/story-swallows-refusals", SCENARIO)
    assert result.outcome is Outcome.FAILED
    [problem] = problems_of(result)
    figures = result.observed["pool_exhaustion"]
    assert figures["refused"] == 0 and figures["server_refusals"] > 0
    assert problem.startswith(f"the example reports {figures['requests']} requests served, the server ran "
                              f"{figures['requests'] - figures['server_refusals']} of their queries"), problem



def test_a_pooled_case_hands_its_role_back_with_no_server_connection(bad: BadRun, monkeypatch: pytest.MonkeyPatch) -> None:
    """PgBouncer keeps a case's server connections pooled long after the case, and they count
    against the role's connection limit: the next case of the role (this story sets the limit to
    its budget) would meet 53300 below its budget. The case's database is dropped later, off the
    cases' path, so the case itself must close them before its role is free."""
    janitor, server = bad.session.janitor, bad.session.server
    assert janitor is not None and server is not None
    left_at_drop: list[int] = []
    drop = janitor.drop_case_database

    def counting_drop(case: CaseDatabase) -> None:
        with psycopg.connect(server.admin.conninfo(), autocommit=True) as admin:
            left_at_drop.append(admin.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s",
                                              [case.role]).fetchone()[0])
        drop(case)

    monkeypatch.setattr(janitor, "drop_case_database", counting_drop)
    result = bad.case("good/reference", "pool_bounded", POOLED)
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
    assert left_at_drop == [0], f"server connection(s) of the role left when its pooled case ended: {left_at_drop}"


def test_a_load_that_sleeps_instead_of_working_is_told_what_to_run(bad: BadRun) -> None:
    result = bad.case("bad/story-sleeps", SCENARIO)
    assert result.outcome is Outcome.FAILED
    [problem] = problems_of(result)
    assert problem.startswith("the server ran ") and "pg_sleep call(s)" in problem, problem
    assert "generate_series(1, <rows>)" in problem and "params.long_rows" in problem, problem
