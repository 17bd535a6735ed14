"""The pgx (examples/go/pgxpool) mistakes: its own sample with one deliberate change
(tests/bad_examples/pgx_mistake.sh), each caught by the scenario that owns it."""

from __future__ import annotations

from harness.outcome import Outcome
from tests.support import BadRun, problems_of


def test_max_conns_hard_coded_lends_a_second_connection_past_the_max(bad: BadRun) -> None:
    result = bad.case("bad/pgx-maxconns-ignored", "pool_acquire_timeout")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("the second acquire succeeded after ")
    assert problems[0].endswith(" ms while the only connection was held: the pool lent more than its max of 1 "
                                "(the server saw 2 open at once)")


def test_sslmode_require_where_verify_full_is_asked_skips_the_host_name(bad: BadRun) -> None:
    result = bad.case("bad/pgx-sslmode-require", "tls_wrong_host")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("the connection to 127.0.0.2 succeeded, although the server's certificate names "
                                  "only localhost, 127.0.0.1: host-name verification is off")
    assert problems[1].startswith("the server authorized 1 session(s) of the example's role")
