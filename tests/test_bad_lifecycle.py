"""The lifecycle checks, each proven by a careless example it must catch (bad/lifecycle-careless:
one mistake per scenario), while good/reference, with the same plumbing, passes them all."""

from __future__ import annotations

from typing import Any

import pytest

from harness.outcome import Outcome
from harness.runner import lifecycle_probe
from tests.support import BadRun, problems_of

LIFECYCLE = ["tls_verify_full", "tls_wrong_ca", "plaintext_refused", "auth_wrong_password", "connect_latency",
             "connect_latency_tls"]


@pytest.mark.parametrize("scenario", LIFECYCLE)
def test_the_reference_passes_every_lifecycle_scenario(bad: BadRun, scenario: str) -> None:
    result = bad.case("good/reference", scenario)
    assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message


def test_tls_verify_full_records_the_servers_view_of_the_session(bad: BadRun) -> None:
    observed = bad.case("good/reference", "tls_verify_full").observed
    assert observed["tls_version"] in ("TLSv1.2", "TLSv1.3") and observed["tls_cipher"]


def test_claiming_tls_over_a_plaintext_connection_is_caught_by_pg_stat_ssl(bad: BadRun) -> None:
    result = bad.case("bad/lifecycle-careless", "tls_verify_full")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("pg_stat_ssl shows backend(s) [") and "unencrypted" in problems[0]
    assert problems[1] == "data.ssl says true, but the server's pg_stat_ssl says the backend is not encrypted"


def test_sslmode_require_accepting_any_certificate_is_caught(bad: BadRun) -> None:
    result = bad.case("bad/lifecycle-careless", "tls_wrong_ca")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("the connection succeeded although the root certificate given (PGSSLROOTCERT) "
                                  "did not sign the server's: certificate verification is off (sslmode=require")
    assert problems[1].startswith("the server authorized 1 session(s) of the example's role; none may get through")
    assert len(problems) == 2


def test_a_refusal_written_down_without_trying_is_caught_by_the_server_log(bad: BadRun) -> None:
    result = bad.case("bad/lifecycle-careless", "plaintext_refused")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == ["the server logged no FATAL 28000 for role ex_bad_lifecycle_careless: "
                                   "the example did not reach the server's authentication"]


def test_a_program_kept_alive_after_a_failed_login_is_caught(bad: BadRun) -> None:
    result = bad.case("bad/lifecycle-careless", "auth_wrong_password")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert len(problems) == 1 and problems[0].startswith("the program exited 4.")
    assert problems[0].endswith("s after the server first refused the password (limit 2 s): "
                                "something (a retrying pool, a timer, a thread) keeps it alive")
    # the login itself was right: the server's record says so
    assert result.observed["server_error"].startswith("FATAL 28P01: password authentication failed")


def test_padded_latency_samples_are_caught_by_the_connection_log(bad: BadRun) -> None:
    result = bad.case("bad/lifecycle-careless", "connect_latency")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == ["the server authorized 6 connection(s) of the role, fewer than the 30 fresh "
                                   "connections reported"]


def test_latency_measured_without_tls_under_the_tls_scenario_is_caught(bad: BadRun) -> None:
    result = bad.case("bad/lifecycle-careless", "connect_latency_tls")
    assert result.outcome is Outcome.FAILED
    assert problems_of(result) == ["31 connection(s) were not encrypted, but the scenario connects with TLS"]


@pytest.fixture(scope="module")
def probe(bad: BadRun) -> dict[str, Any]:
    """One probe (local and over the simulated link) for the tests that read it."""
    return lifecycle_probe(bad.session, samples=5)


def test_the_probe_times_every_step_with_scram_and_verified_tls(probe: dict[str, Any]) -> None:
    assert list(probe["plain"]["steps"]) == ["resolve", "tcp", "auth", "ready", "query"]
    assert list(probe["tls"]["steps"]) == ["resolve", "tcp", "tls", "auth", "ready", "query"]
    assert probe["plain"]["auth_mechanism"] == probe["tls"]["auth_mechanism"] == "SCRAM-SHA-256"
    assert probe["tls"]["tls_version"] in ("TLSv1.2", "TLSv1.3")
    for mode in ("plain", "tls"):
        steps = probe[mode]["steps"]
        assert all(0 < s["p50"] <= s["p95"] for s in steps.values())
        assert probe[mode]["total"]["p50"] >= steps["auth"]["p50"]


def test_the_probe_refuses_a_server_certificate_from_another_ca(bad: BadRun) -> None:
    """The probe verifies like verify-full: handed the unrelated CA, its handshake must fail."""
    import ssl
    from harness.probe import Target, probe_once
    bad.session.start()
    server = bad.session.server
    assert server is not None and server.client_tls is not None
    role = bad.session.janitor.ensure_role("harness/probe")  # type: ignore[union-attr]
    target = Target("localhost", server.port, role, bad.session.credentials.for_role(role), ca_file=server.client_tls.wrong_ca)
    with pytest.raises(ssl.SSLCertVerificationError):
        probe_once(target)


def test_over_the_simulated_link_every_round_trip_costs_the_rtt(bad: BadRun, probe: dict[str, Any]) -> None:
    """At least: the SSLRequest, the TLS 1.3 handshake, and SCRAM's three exchanges are round trips."""
    remote = probe["remote"]
    rtt = remote["rtt_ms"]
    assert rtt == bad.session.config.remote_rtt_ms > 0
    assert remote["tls"]["steps"]["tls"]["min"] >= 2 * rtt
    assert remote["plain"]["steps"]["auth"]["min"] >= 3 * rtt
    assert remote["plain"]["steps"]["query"]["min"] >= rtt
    assert remote["tls"]["connect"]["p50"] > probe["tls"]["connect"]["p50"] + 5 * rtt


def test_the_delay_link_relays_bytes_in_order_and_closes(tmp_path: object) -> None:
    import socket
    import threading
    from harness.delay_link import DelayLink
    server = socket.create_server(("127.0.0.1", 0))

    def echo() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)
    threading.Thread(target=echo, daemon=True).start()
    with DelayLink(server.getsockname(), rtt_ms=10) as link:
        with socket.create_connection(("127.0.0.1", link.port)) as client:
            payload = bytes(range(256)) * 400
            client.sendall(payload)
            client.shutdown(socket.SHUT_WR)
            received = b""
            while chunk := client.recv(65536):
                received += chunk
    server.close()
    assert received == payload


def test_a_login_retried_after_its_refusal_is_timed_from_the_first_and_counted(bad: BadRun) -> None:
    result = bad.case("bad/login-retried", "auth_wrong_password")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert len(problems) == 1 and problems[0].startswith("the program exited ")
    assert "s after the server first refused the password (limit 2 s); it tried the wrong password 5 times" in \
        problems[0] and problems[0].endswith("a login the server refused is retried (a pool's retry loop), and a "
                                             "wrong password never succeeds")
    assert result.observed["login_retries"] == 4


def test_a_swallowed_login_error_is_named_as_a_success_against_the_servers_refusal(bad: BadRun) -> None:
    result = bad.case("bad/login-swallowed", "auth_wrong_password")
    assert result.outcome is Outcome.FAILED
    problems = problems_of(result)
    assert problems[0].startswith("the example reports that the connection succeeded, but the server refused it "
                                  "(FATAL 28P01: password authentication failed for user")
    assert "authorized no session: the client swallowed the login error" in problems[0]
