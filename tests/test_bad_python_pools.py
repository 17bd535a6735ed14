"""Mistakes made with the Python pool drivers (examples/python/psycopg-pool, examples/python/asyncpg),
each proven by a wrong example that runs the real example's module with that one mistake
(tests/bad_examples/bad/psycopg-pool-*, asyncpg-*): the scenario that owns the mistake must catch it
with a message that names the cause. Each builds its own venv from the example's requirements.txt."""

from __future__ import annotations

from harness.outcome import Outcome
from tests.support import BadRun, problems_of


def test_a_connection_used_after_its_with_pool_connection_block_is_caught_idle_in_transaction(bad: BadRun) -> None:
    result = bad.case("bad/psycopg-pool-conn-after-return", "pool_release")
    assert result.outcome is Outcome.FAILED, result.message
    problems = problems_of(result)
    assert any("'idle in transaction' after the work: a connection was not released" in p for p in problems), problems


def test_sslmode_require_in_the_pools_kwargs_is_caught_by_tls_wrong_host_only(bad: BadRun) -> None:
    wrong_host = bad.case("bad/psycopg-pool-sslmode-require", "tls_wrong_host")
    assert wrong_host.outcome is Outcome.FAILED, wrong_host.message
    assert any("host-name verification is off" in p for p in problems_of(wrong_host)), problems_of(wrong_host)
    # With PGSSLROOTCERT at hand libpq's require still checks the CA: only the host name goes unchecked.
    wrong_ca = bad.case("bad/psycopg-pool-sslmode-require", "tls_wrong_ca")
    assert wrong_ca.outcome is Outcome.PASSED, wrong_ca.message


def test_asyncpgs_ssl_require_is_caught_by_tls_wrong_host_only(bad: BadRun) -> None:
    wrong_host = bad.case("bad/asyncpg-ssl-require", "tls_wrong_host")
    assert wrong_host.outcome is Outcome.FAILED, wrong_host.message
    assert any("host-name verification is off" in p for p in problems_of(wrong_host)), problems_of(wrong_host)
    # asyncpg's require loads PGSSLROOTCERT and checks the CA: only the host name goes unchecked.
    wrong_ca = bad.case("bad/asyncpg-ssl-require", "tls_wrong_ca")
    assert wrong_ca.outcome is Outcome.PASSED, wrong_ca.message


def test_a_hard_coded_asyncpg_max_size_is_caught_by_pool_bounded(bad: BadRun) -> None:
    result = bad.case("bad/asyncpg-max-hardcoded", "pool_bounded")
    assert result.outcome is Outcome.FAILED, result.message
    assert any("connections at once; its max is 4" in p for p in problems_of(result)), problems_of(result)


def test_asyncpgs_statement_cache_left_on_behind_transaction_pooling_is_caught(bad: BadRun) -> None:
    result = bad.case("bad/asyncpg-statement-cache", "pool_recovery_terminate",
                      "pgbouncer-transaction+statement_cache_size=0")
    assert result.outcome is Outcome.FAILED, result.message
    problems = problems_of(result)
    assert any("the second burst (after the fault): 0 of 8 succeeded" in p and "'26000'" in p for p in problems), problems
    assert result.failure is not None and "26000" in result.failure.sqlstates
