"""Statements counted (harness/statements.py) and the checks that judge them, without a server:
the role's pg_stat_statements and statement log are given as the server would report them."""

from __future__ import annotations

from datetime import timedelta

from harness.case.protocol import judge_statements
from harness.scenarios import Verdict
from harness.spec import load_scenario
from harness.statements import count, housekeeping_reason, over_limit_problem
from tests.fakes import T0, FakeControls, check_for, record, verify

PER_USER = "SELECT user_id, symbol, shares FROM holdings WHERE user_id = $1 ORDER BY id"


def test_housekeeping_is_told_from_work_by_the_one_table() -> None:
    for shape in ("BEGIN", "COMMIT", "SET extra_float_digits = 3", "SHOW TRANSACTION ISOLATION LEVEL",
                  "select pg_catalog.version()", "select current_schema()", "SELECT 1", "SELECT $1"):
        assert housekeeping_reason(shape), shape
    for shape in ("SELECT id, name FROM users WHERE active ORDER BY id", "SELECT 1 FROM users", "SELECT setting_x"):
        assert housekeeping_reason(shape) is None, shape


def test_a_schema_qualified_multi_line_type_lookup_is_housekeeping() -> None:
    # postgres.js's array-type lookup, as pg_stat_statements keeps it, on every new connection
    postgres_js = ("\n      select b.oid, b.typarray\n      from pg_catalog.pg_type a\n"
                   "      left join pg_catalog.pg_type b on b.oid = a.typelem\n      where a.typcategory = $1")
    assert housekeeping_reason(postgres_js)
    assert housekeeping_reason("SELECT id FROM users\nWHERE name = $1") is None


def test_asyncpgs_reset_on_release_and_type_introspection_are_housekeeping_and_a_lock_call_is_not() -> None:
    for shape in ("SELECT pg_advisory_unlock_all()", "CLOSE ALL", "UNLISTEN *", "RESET ALL",
                  "WITH RECURSIVE typeinfo_tree(\n    oid, ns, name)",
                  "SELECT\n    current_setting($1) AS cur,\n    set_config($2, $3, $4) AS new",
                  "SELECT\n    set_config($2, $1, $3)"):
        assert housekeeping_reason(shape), shape
    # A sample's own session SET (session_set) is work, however pg_stat_statements numbers it.
    for shape in ("SELECT pg_advisory_unlock($1)", "SELECT pg_advisory_lock($1)", "UNLISTEN jobs",
                  "SELECT set_config($1, $2, $3)", "SELECT set_config($1, $2, false)"):
        assert housekeeping_reason(shape) is None, shape


def test_count_keeps_work_housekeeping_round_trips_and_the_shapes() -> None:
    stats = [("BEGIN", 1), (PER_USER, 5), ("SELECT id, name FROM users WHERE active", 1), ("ROLLBACK", 1)]
    log = [record(0.1, "statement: BEGIN"), record(0.2, "execute <unnamed>: SELECT 1 /* logged */"),
           record(0.3, "statement: "), record(0.4, "connection authorized: user=x")]
    counted = count(stats, log)
    assert (counted.work, counted.housekeeping, counted.round_trips, counted.logged) == (6, 2, 3, 2)
    assert counted.shapes[0].text == PER_USER and counted.shapes[0].calls == 5
    figures = counted.to_json()
    assert figures["work"] == 6 and figures["top"][0] == {"shape": PER_USER, "calls": 5, "housekeeping": False}


def test_over_the_limit_names_the_repeated_shape_and_what_to_do() -> None:
    counted = count([(PER_USER, 5), ("SELECT id, name FROM users WHERE active ORDER BY id", 1)], [])
    problem = over_limit_problem(counted, 2, "related_rows")
    assert problem == ("6 statements for the work of related_rows, at most 2 allowed (spec max_statements): "
                       f"`{PER_USER}` ran 5 times, a query repeated per row (an N+1); load them in one query "
                       "(a JOIN, `= ANY($1)`, or the ORM's eager loading)")
    assert over_limit_problem(counted, 6, "related_rows") is None


def test_every_case_gets_its_figures_and_the_limit_of_its_scenario() -> None:
    check = check_for("related_rows")
    verify(check, {}, stats=((PER_USER, 5), ("BEGIN", 1)))
    verdict = Verdict()
    judge_statements(check.ctx, verdict)
    assert verdict.observed["statements"]["work"] == 5 and verdict.observed["statements"]["max"] == 2
    assert f"`{PER_USER}` ran 5 times, a query repeated per row (an N+1)" in verdict.problems[0]


def test_active_users_must_filter_in_sql() -> None:
    rows = check_for("active_users").ctx.spec.fixture.user_rows("active")
    filtered = (("SELECT id, name FROM users WHERE active ORDER BY id", 1),)
    assert verify(check_for("active_users"), {"rows": rows}, stats=filtered).problems == []
    everyone = (("SELECT id, name, active FROM users ORDER BY id", 1),)
    problems = verify(check_for("active_users"), {"rows": rows}, stats=everyone).problems
    assert problems == ["`SELECT id, name, active FROM users ORDER BY id` has no filter on active: it fetched every user and "
                        "filtered in fake; put the filter in the SQL (WHERE active) so the server sends only "
                        "the active users"]


def test_related_rows_compares_users_with_their_holdings() -> None:
    check = check_for("related_rows")
    expected = check.ctx.spec.fixture.users_with_holdings("active")
    assert any(u["holdings"] == [] for u in expected), "the fixture needs an active user who holds nothing"
    assert verify(check_for("related_rows"), {"users": expected}).problems == []
    inner_join = [u for u in expected if u["holdings"]]
    assert verify(check_for("related_rows"), {"users": inner_join}).problems == ["data.users differs from the spec"]


def story(naive_calls: int, eager: tuple[tuple[str, int], ...], users: int = 205,
          drop_fixture_user: bool = False) -> list[str]:
    users_query = ("SELECT users.id FROM users WHERE users.active = $1", 1)
    snapshots = [(), (users_query, (PER_USER, naive_calls)),
                 (users_query[:1] + (2,), (PER_USER, naive_calls), *eager)]
    controls = FakeControls(stats=[s if isinstance(s, tuple) else () for s in snapshots])
    check = check_for("story_orm_n_plus_one", controls)
    for i, mark in enumerate(("before_naive", "before_eager", "after_eager")):
        controls.clock = T0 + timedelta(seconds=i)
        check.on_checkpoint(mark)
    answer = check.ctx.spec.fixture.users_with_holdings("active") + [{"id": 1001, "name": "x", "holdings": []}]
    if drop_fixture_user:
        answer = answer[1:]
    data = {"users": users, "naive": answer, "eager": answer, "naive_ms": 300.0, "eager_ms": 10.0}
    verdict = verify(check, data)
    return verdict.problems


def test_the_story_needs_n_plus_one_naive_and_at_most_two_eager() -> None:
    eager = (("SELECT holdings.user_id FROM holdings WHERE holdings.user_id IN ($1, $2)", 1),)
    assert story(205, eager) == []
    assert story(205, eager, drop_fixture_user=True) == ["the fixture's users in data.eager differs from the spec"]
    assert story(3, eager)[0].startswith("the naive way sent 4 statements for 205 users, expected N+1 = 206")
    lazy_again = ((PER_USER, 205 + 5),)
    assert f"`{PER_USER}` ran 5 times" in story(205, lazy_again)[0]


def test_every_scenario_declares_max_statements(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("summary: s\ngroup: core\n", encoding="utf-8")
    try:
        load_scenario(path)
    except Exception as exc:  # noqa: BLE001 - the message is the point
        assert "max_statements" in str(exc) and "an integer >= 0" in str(exc)
    else:
        raise AssertionError("a scenario without max_statements loaded")


def test_the_report_shows_the_statements_of_each_case_and_the_story() -> None:
    from harness.reporting.html_statements import statements_table, story_section

    case = {"name": "related_rows", "observed": {"statements": count([(PER_USER, 5), ("BEGIN", 1)], []).to_json()}}
    story = {"name": "story_orm_n_plus_one", "observed": {"story": {
        "page": "400+ queries instead of 2", "users": 205, "naive": {"statements": 206, "round_trips": 208, "ms": 700.0},
        "eager": {"statements": 2, "round_trips": 4, "ms": 50.0}, "round_trips_reduced_percent": 98.1,
        "wall_time_ratio": 14.0}}}
    example = {"id": "fake/example", "scenarios": [case, story]}
    table = statements_table(example)
    assert "<td class=\"name\">related_rows</td><td class=\"num\">5</td><td class=\"num\">1</td>" in table
    assert "5 ×" in table and "WHERE user_id = $1" in table
    assert ("fake/example: 205 users, 206 statements lazily instead of 2 eagerly; round trips 208 → 4 (−98.1%)"
            in story_section({"examples": [example]}))


def test_pool_sizes_follow_the_pages_formula_for_the_servers_cores() -> None:
    from harness.scenarios.pool_sizing import pool_sizes

    params = {"spindles": 0, "formula_multiple": 4, "far_above_cores": 32, "requests": 96}
    assert pool_sizes(2, params) == (4, [1, 4, 16, 64])
    assert pool_sizes(8, params) == (16, [1, 16, 64, 96])   # far above is capped at the requests
    assert pool_sizes(2, {**params, "spindles": 2}) == (6, [1, 6, 24, 64])


def sizing_run(size: int, wait_ms: float, elapsed_ms: float = 1000.0) -> dict[str, object]:
    return {"size": size, "elapsed_ms": elapsed_ms, "wait_ms": [wait_ms] * 96, "latency_ms": [wait_ms + 30] * 96}


def test_pool_sizing_judges_the_bound_and_the_wait_and_states_the_claim() -> None:
    from harness.scenarios.pool_sizing import StoryPoolSizing

    controls = FakeControls(rows={"/proc/cpuinfo": [("processor\t: 0\nflags\nprocessor\t: 1\n",)]})
    check = check_for("story_pool_sizing", controls)
    assert isinstance(check, StoryPoolSizing)
    check.prepare()
    assert check.run_params()["sizes"] == [1, 4, 16, 64]
    log = []
    for i, size in enumerate(check.sizes):
        controls.clock = T0 + timedelta(seconds=10 * i)
        check.on_checkpoint(f"before_{size}")
        opened = 5 if size == 4 else min(size, 3)   # the pool of 4 opens one too many
        log += [record(10 * i + 1 + k * 0.01, "connection authorized: user=x", pid=1000 * (i + 1) + k)
                for k in range(opened)]
        controls.clock = T0 + timedelta(seconds=10 * i + 5)
        check.on_checkpoint(f"after_{size}")
    data = {"sizes": [sizing_run(1, 200.0, 4000.0), sizing_run(4, 300.0), sizing_run(16, 50.0, 800.0),
                      sizing_run(64, 950.0)]}
    verdict = verify(check, data, log=log)
    assert verdict.problems == [
        "the pool of size 4 had 5 connections open at once (connection log): a pool must never exceed its size",
        "the pool of size 1 did not wait longer for a connection than the formula's size 4 (mean waits by size: "
        "{1: 200.0, 4: 300.0, 16: 50.0, 64: 950.0})"]
    sizing = verdict.observed["pool_sizing"]
    assert sizing["formula"] == 4 and sizing["cores"] == 2
    assert sizing["verdict"] == "throughput at the formula's size (4) is 80% of the best size here (16: 120.0/s)"


def test_the_report_draws_the_pool_sizing_with_the_formula_marked() -> None:
    from harness.reporting.html_statements import pool_sizing_section

    rows = [{"size": s, "throughput_per_s": t, "latency_p50_ms": 1.0, "latency_p95_ms": 2.0, "wait_mean_ms": w,
             "peak_backends": s} for s, t, w in ((1, 10.0, 900.0), (4, 40.0, 100.0), (16, 50.0, 20.0))]
    sizing = {"cores": 2, "spindles": 0, "formula": 4, "page": "(2 × CPU cores) + disk spindles", "sizes": rows,
              "verdict": "throughput at the formula's size (4) is 80% of the best size here (16: 50.0/s)"}
    run = {"examples": [{"id": "fake/pool", "scenarios": [{"name": "story_pool_sizing",
                                                           "observed": {"pool_sizing": sizing}}]}]}
    html = pool_sizing_section(run)
    assert "so the formula gives 4" in html and 'src="data:image/svg+xml;base64,' in html
    assert "fake/pool: throughput at the formula&#x27;s size (4) is 80% of the best size here" in html
    assert pool_sizing_section({"examples": []}) == ""
