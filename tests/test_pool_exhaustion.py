"""The page's first story, story_pool_exhaustion, checked with a fake (tests/fakes.py, no server):
what it asks of each topology, what it asserts (refusals and the budget straight to the server;
none refused and the budget kept through PgBouncer; the example's count against the server's),
and the report's pairing of the two runs. The real runs: tests/test_bad_story.py."""

from __future__ import annotations

from typing import Any

from harness.reporting.html_pool_exhaustion import pool_exhaustion_section
from harness.reporting.pool_exhaustion_view import exhaustion_stories, one_line, rerun_command
from harness.scenarios import REGISTRY
from tests.fakes import FakeControls, check_for, pooler_client, record, session_of, timeline, verify

SCENARIO = "story_pool_exhaustion"
POOLED = "pgbouncer-transaction"
PER_SERVICE = 6 * 12   # waves × wave_size in spec/scenarios/story_pool_exhaustion.yaml


def services(refused: tuple[int, ...] = (0, 0, 0, 0), failed: int = 0) -> dict[str, Any]:
    out = []
    for n in refused:
        served = PER_SERVICE - n - failed
        out.append({"succeeded": served, "refused": n, "failed": failed,
                    "errors": (["53300"] if n else []) + (["26000"] if failed else []),
                    "wait_ms": [1.0] * (served - 10) + [300.0] * 10, "latency_ms": [20.0] * (served - 10) + [900.0] * 10})
    return {"services": out, "elapsed_ms": 6500}


def served(data: dict[str, Any]) -> tuple[tuple[str, int], ...]:
    return (("SELECT sum(i) FROM generate_series($1, $2) AS i", sum(s["succeeded"] for s in data["services"])),
            ("select $1", 3))


def backends(count: int) -> list:
    return [line for pid in range(count) for line in session_of(1000 + pid, 0.1 + pid * 0.001, 6.0)]


def refusals(count: int) -> list:
    return [record(0.5, 'too many connections for role "ex_fake_example"', pid=3000 + i, severity="FATAL",
                   state="53300") for i in range(count)]


def test_it_runs_straight_to_the_server_and_in_transaction_pooling_only() -> None:
    check = REGISTRY[SCENARIO]
    assert check.not_behind("direct") is None
    assert check.not_behind(POOLED) is None
    assert check.not_behind(POOLED + "+prepareThreshold=0") is None
    assert "the story's fix is transaction pooling" in (check.not_behind("pgbouncer-session") or "")


def test_the_budget_is_the_roles_limit_and_pgbouncers_server_pool() -> None:
    direct, pooled = FakeControls(), FakeControls()
    check_for(SCENARIO, direct).prepare()
    check_for(SCENARIO, pooled, topology=POOLED).prepare()
    assert direct.actions == [("connection_limit", 40)]   # 4 services × 20 / 2
    assert pooled.actions == [("connection_limit", 40), ("pooler_pool_size", 40)]
    assert check_for(SCENARIO).run_params()["pool"]["max"] == 20
    params = check_for(SCENARIO, topology=POOLED).run_params()
    assert params["pool"]["max"] == 5 and params["services"] == 4 and params["long_per_wave"] == 3
    # The work is real (rows summed on the server) and a refused request is retried with backoff.
    assert params["long_rows"] > params["short_rows"] > 0
    assert params["retry"] == {"attempts": 6, "backoff_ms": 50, "backoff_max_ms": 800}
    # The old sleeps are still passed, so an example not yet updated runs and is told what to run.
    assert params["long_seconds"] == 0.8


def test_a_load_that_sleeps_instead_of_working_fails_with_what_to_run() -> None:
    data = services(refused=(15, 15, 15, 12))
    slept = (("SELECT pg_sleep($1)", sum(s["succeeded"] for s in data["services"])),)
    problems = verify(check_for(SCENARIO), data, log=refusals(57) + backends(40), stats=slept).problems
    assert any("pg_sleep call(s)" in p and "generate_series(1, <rows>)" in p for p in problems), problems


def test_straight_to_the_server_refusals_and_backends_at_the_budget_pass() -> None:
    data = services(refused=(20, 15, 12, 10))
    verdict = verify(check_for(SCENARIO), data, log=backends(40) + refusals(57), stats=served(data),
                     activity=timeline(10, 40, 40, 0))
    assert verdict.problems == []
    figures = verdict.observed["pool_exhaustion"]
    assert (figures["refused"], figures["server_refusals"], figures["peak_backends"], figures["budget"]) == (57, 57, 40, 40)
    assert figures["succeeded"] == 4 * PER_SERVICE - 57 and figures["queued"] == 40
    assert figures["latency_max_ms"] == 900.0 and figures["page"] == "2 s → 50 ms"


def test_one_shared_pool_never_exhausts_the_budget() -> None:
    # One pool of 20 for every service: the server never refuses, the backends stop at 20.
    data = services()
    problems = verify(check_for(SCENARIO), data, log=backends(20), stats=served(data)).problems
    assert problems == [
        "the server refused no connection (53300) under a budget of 40: the services' pools never outgrew it "
        "(4 independent pools of 20 expected)",
        "the server's backends peaked at 20 (connection log), not at the budget of 40: the pools did not exhaust it"]


def test_independent_pools_whose_waves_never_collided_are_judged_by_their_independence() -> None:
    # A loaded machine: the waves spread out, the backends peaked at 31 (more than one pool's 20,
    # under the budget of 40), nothing was refused. Timing decided that, and the verdict says so.
    data = services()
    verdict = verify(check_for(SCENARIO), data, log=backends(31), stats=served(data))
    assert verdict.problems == []
    assert verdict.observed["timing_decided"].startswith("the server refused no connection: the backends peaked "
                                                         "at 31, above one pool's 20 (independent pools)")


def test_a_refusal_reported_as_served_is_caught_by_the_servers_count() -> None:
    data = services()   # the example says every request was served ...
    ran = (("SELECT sum(i) FROM generate_series($1, $2) AS i", 4 * PER_SERVICE - 57),)   # ... the server ran 57 fewer
    problems = verify(check_for(SCENARIO), data, log=backends(40) + refusals(57), stats=ran).problems
    assert problems == [f"the example reports {4 * PER_SERVICE} requests served, the server ran {4 * PER_SERVICE - 57} "
                        "of their queries (pg_stat_statements): a refused or failed request must be counted as such"]


def test_every_request_must_be_accounted_for_per_service() -> None:
    data = services()
    data["services"][1]["succeeded"] -= 5   # five requests vanished from the count
    data["services"][1]["wait_ms"] = data["services"][1]["wait_ms"][5:]
    data["services"][1]["latency_ms"] = data["services"][1]["latency_ms"][5:]
    problems = verify(check_for(SCENARIO), data, log=backends(40) + refusals(3), stats=served(data)).problems
    assert problems == [f"service 1: {PER_SERVICE - 5} requests accounted for (succeeded + refused + failed), "
                        f"it was sent {PER_SERVICE}"]
    assert verify(check_for(SCENARIO), {"services": data["services"][:1]}).problems == [
        "data.services has 1 service(s), expected 4 (one result per service, each with its own pool)"]


def pooled_clients(count: int) -> list:
    return [line for c in range(count) for line in pooler_client(c, 0.1, 6.0)]


def test_through_pgbouncer_none_refused_and_the_budget_kept_pass() -> None:
    data = services()
    verdict = verify(check_for(SCENARIO, topology=POOLED), data, log=backends(20), stats=served(data),
                     activity=timeline(2, 20, 20, 2), pooler_log=pooled_clients(20))
    assert verdict.problems == []
    figures = verdict.observed["pool_exhaustion"]
    assert (figures["refused"], figures["peak_backends"], figures["pooler_client_peak"], figures["pool_max"]) == (0, 20, 20, 5)


def test_through_pgbouncer_refusals_failures_and_too_many_backends_fail() -> None:
    data = services(refused=(2, 0, 0, 0), failed=1)
    problems = verify(check_for(SCENARIO, topology=POOLED), data, log=backends(41) + refusals(2), stats=served(data),
                      activity=timeline(41), pooler_log=pooled_clients(20)).problems
    assert problems == [
        "through PgBouncer 2 request(s) were refused and 4 failed (none may be): ['26000', '53300']",
        "the server refused 2 connection(s) (53300) through PgBouncer",
        "the server had 41 backends at once through PgBouncer (connection log / pg_stat_activity), above the budget of 40"]


def test_through_pgbouncer_one_pool_for_every_service_is_caught_at_the_pooler() -> None:
    data = services()
    problems = verify(check_for(SCENARIO, topology=POOLED), data, log=backends(5), stats=served(data),
                      pooler_log=pooled_clients(5)).problems
    assert problems == ["the example had 5 client connection(s) open at once at PgBouncer: 4 independent pools of 5 "
                        "have more than one pool's 5 and at most 20"]


# -- the report -------------------------------------------------------------------------------

def case(topology: str, outcome: str = "passed", **figures: Any) -> dict[str, Any]:
    base = {"requests": 288, "succeeded": 288, "refused": 0, "failed": 0, "server_refusals": 0, "queued": 3,
            "latency_p50_ms": 50.0, "latency_p95_ms": 900.0, "latency_max_ms": 1200.0, "peak_backends": 20,
            "budget": 40, "services": 4, "pool_max": 5, "page": "2 s → 50 ms"}
    return {"name": SCENARIO, "topology": topology, "outcome": outcome,
            "observed": {"pool_exhaustion": {**base, **figures}}}


def test_the_report_pairs_run_1_with_run_2_and_its_fix_row() -> None:
    run = {"examples": [
        {"id": "java/x", "scenarios": [
            case(POOLED + "+prepareThreshold=0"), case(POOLED, "xfailed", failed=25),
            case("direct", refused=0, server_refusals=32, peak_backends=40, pool_max=20),
            {"name": SCENARIO, "topology": "pgbouncer-session", "outcome": "not_applicable", "message": "n/a"}]},
        {"id": "node/y", "scenarios": [case("direct", refused=57, server_refusals=57, peak_backends=40)]},
        {"id": "c/z", "scenarios": [{"name": SCENARIO, "outcome": "not_applicable", "message": "no pool"}]}]}
    java, node = exhaustion_stories(run)
    assert [r.topology for r in java.runs] == ["direct", POOLED, POOLED + "+prepareThreshold=0"]
    assert java.missing == "" and java.after is not None and java.after.topology == POOLED + "+prepareThreshold=0"
    assert java.runs[2].label == "Run 2: through PgBouncer 1.18 (transaction) with prepareThreshold=0"
    assert node.after is None
    assert node.missing == f"Run 2 (through PgBouncer in transaction mode) was not run; both halves: {rerun_command('node/y')}"
    assert "--via direct,pgbouncer-transaction" in node.missing
    assert one_line(java).startswith("direct: 0 of 288 requests refused (server logged 32 × 53300, 0 retried)")
    html = pool_exhaustion_section(run)
    assert html.count("<h3>") == 2 and html.count("data:image/svg+xml") == 1   # a chart only with both halves
    assert "2 s → 50 ms" in html and rerun_command("node/y") in html
    assert pool_exhaustion_section({"examples": [{"id": "c/z", "scenarios": []}]}) == ""



def test_the_story_line_sets_the_pages_claim_beside_the_figures_and_the_fix_as_a_user_pastes_it() -> None:
    snippet = "jdbc:postgresql://host:6432/db?prepareThreshold=0"
    run = {"fixes": {"prepareThreshold=0": snippet}, "examples": [{"id": "java/x", "scenarios": [
        case("direct", refused=7, server_refusals=57, retries=50, peak_backends=40, latency_p50_ms=2100.0,
             pool_max=20),
        case(POOLED, "xfailed", failed=25), case(POOLED + "+prepareThreshold=0", latency_p50_ms=48.0)]}]}
    (story,) = exhaustion_stories(run)
    line = one_line(story)
    assert line.startswith("direct: 7 of 288 requests refused (server logged 57 × 53300, 50 retried), p50/p95/max 2100.0/")
    assert f" → {POOLED}+prepareThreshold=0 (in your code: {snippet}): 0 of 288 requests refused" in line
    assert "p50/p95/max 48.0/900.0/1200.0 ms" in line and line.endswith('The page: "2 s → 50 ms" (not asserted).')
    assert story.runs[2].label.endswith(f"with prepareThreshold=0 (in your code: {snippet})")
    assert story.runs[1].snippet == "" and snippet in pool_exhaustion_section(run)
    # The claim comes from the case (spec page_claim), never from a renderer's own copy.
    bare = {"examples": [{"id": "java/x", "scenarios": [case("direct", page="")]}]}
    assert "The page" not in one_line(exhaustion_stories(bare)[0])
