"""postgres.js's own mistakes (examples/node/postgres-js does them right), each a deliberately
wrong example under tests/bad_examples/bad/ that the scenario owning it must catch."""

from __future__ import annotations

import pytest

from harness.outcome import Outcome
from tests.support import BadRun, problems_of


# postgres.js's 'require' sets rejectUnauthorized: false: neither the CA nor the name is checked.
@pytest.mark.parametrize(("scenario", "summary"), [
    ("tls_wrong_ca", "the connection succeeded although the root certificate given (PGSSLROOTCERT) did not sign "
                     "the server's"),
    ("tls_wrong_host", "the connection to 127.0.0.2 succeeded, although the server's certificate names only "
                       "localhost, 127.0.0.1: host-name verification is off"),
])
def test_ssl_require_where_full_verification_is_asked_connects_anywhere(bad: BadRun, scenario: str,
                                                                        summary: str) -> None:
    result = bad.case("bad/postgres-js-ssl-require", scenario)
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith(summary), problems
    assert any(p.startswith("the server authorized 1 session(s) of the example's role") for p in problems), problems


def test_a_reserved_connection_released_inside_its_failed_transaction_is_caught(bad: BadRun) -> None:
    result = bad.case("bad/postgres-js-reserve-no-rollback", "pool_release_on_error")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    # The next borrower got 25P02, named with its cause.
    assert problems[0].startswith("backend ") and "with 25P02 'current transaction is aborted'" in problems[0], problems
    assert any(p.startswith("backend ") and "was neither rolled back nor closed" in p for p in problems), problems
    assert result.observed["failed_client"]["state_after_error"] == "idle in transaction (aborted)"
