"""The connection lifecycle (the page's six steps): TLS with full verification, certificates
that must be refused (another CA's, and the right CA's for another host name), a hostssl-only role, a wrong password, and connect time measured.

The failing scenarios prove from the server's log that the example really reached the server:
a TLS handshake the client aborted, a FATAL with the expected SQLSTATE for the example's role;
and that no session was authenticated."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timezone
from typing import Any

from harness.delay_link import DelayLink
from harness.observe import LogRecord
from harness.scenarios.base import ScenarioCheck, Verdict, scenario
from harness.server.base import UNNAMED_ADDRESS, Endpoint
from harness.server.tls import SERVER_ADDRESSES, SERVER_NAMES
from harness.stats import percentile

# What log_connections adds to `connection authorized` for a session over TLS.
SSL_ENABLED = "SSL enabled (protocol="


def pooler_tls(clients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SHOW CLIENTS rows as pg_stat_ssl rows: PgBouncer writes a client's TLS as version/cipher."""
    rows = []
    for client in clients:
        version, _, cipher = str(client.get("tls") or "").partition("/")
        rows.append({"pid": client.get("port"), "ssl": bool(version), "version": version or None,
                     "cipher": cipher or None})
    return rows


def error_of(data: dict[str, Any], verdict: Verdict) -> dict[str, Any] | None:
    error = data.get("error")
    if not isinstance(error, dict):
        verdict.fail(f"data.error must be an object with kind and message, got {error!r:.120}")
        return None
    return error


def require_kind(check: ScenarioCheck, error: dict[str, Any], verdict: Verdict) -> bool:
    """False when the example connected: then only the server's side is worth reporting."""
    expected = check.expect["kind"]
    if error.get("kind") == "none":
        refused = refusals(check)
        if refused and not check.ctx.connections_authorized():
            verdict.fail(f"the example reports that the connection succeeded, but the server refused it (FATAL "
                         f"{refused[0].state_code}: {refused[0].message[:120]}) and authorized no session: the "
                         "client swallowed the login error (a catch that reports success, an unawaited promise, "
                         "an error callback never read); report the driver's error")
            return False
        verdict.fail(getattr(check, "accepted_means", "")
                     or f"the connection succeeded; the driver must refuse it ({check.ctx.scenario.summary})")
        return False
    verdict.require(error.get("kind") == expected,
                    f"data.error.kind is {error.get('kind')!r}, expected {expected!r} "
                    f"(the driver's error: {str(error.get('message', ''))[:200]})")
    return True


def refusals(check: ScenarioCheck) -> list[LogRecord]:
    """The server's FATALs of the scenario's SQLSTATE for the example's role (none for a TLS refusal)."""
    expected = check.expect.get("sqlstate")
    return [r for r in check.ctx.my_log() if r.severity == "FATAL" and r.state_code == expected] if expected else []


def require_no_session(check: ScenarioCheck, verdict: Verdict) -> None:
    sessions = check.ctx.connections_authorized()
    if check.ctx.pooled and not check.ctx.pooler_logins():
        # Through PgBouncer the example's session needs its login there first; without one, a
        # server session of the role is PgBouncer's own (its min_pool_size, filled on its timer).
        verdict.observed["pooler_server_sessions"] = len(sessions)
        return
    verdict.require(not sessions, f"the server authorized {len(sessions)} session(s) of the example's role; "
                                  "none may get through: " + "; ".join(r.message[:100] for r in sessions[:2]))


def require_sqlstate(check: ScenarioCheck, error: dict[str, Any], verdict: Verdict) -> None:
    """The driver's SQLSTATE where it exposes one; libpq has none for a failed connection (it
    only has the server's message), so null is accepted and the server's log must carry it."""
    expected = check.expect["sqlstate"]
    reported = error.get("sqlstate")
    verdict.observed["driver_sqlstate"] = reported
    verdict.require(reported in (expected, None),
                    f"data.error.sqlstate is {reported!r}, expected {expected!r} (or null where the driver has none)")
    contains = check.expect.get("message_contains", "")
    verdict.require(contains in str(error.get("message", "")),
                    f"the driver's error does not pass on the server's reason ({contains!r}): "
                    f"{str(error.get('message', ''))[:200]!r}")
    fatal = refusals(check)
    verdict.require(bool(fatal), f"the server logged no FATAL {expected} for role {check.ctx.db.role}: "
                                 "the example did not reach the server's authentication")
    if fatal:
        verdict.observed["server_error"] = f"FATAL {expected}: {fatal[0].message[:160]}"


@scenario("tls_verify_full")
class TlsVerifyFull(ScenarioCheck):
    checkpoints = ("connected",)
    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.seen: list[dict[str, Any]] = []

    def on_checkpoint(self, name: str) -> None:
        if name != "connected":
            super().on_checkpoint(name)
        self.seen = pooler_tls(self.ctx.controls.pooler_clients()) if self.ctx.pooled else self.ctx.controls.tls_backends()

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        where = "PgBouncer's SHOW CLIENTS shows connection(s)" if self.ctx.pooled else "pg_stat_ssl shows backend(s)"
        if not verdict.require(bool(self.seen), "no connection of the example was open at checkpoint 'connected' "
                                                "(print the checkpoint while holding the connection)"):
            return
        plain = [b["pid"] for b in self.seen if not b["ssl"]]
        if plain:
            verdict.fail(f"{where} {plain} unencrypted: the connection did not use TLS "
                         "(take PGSSLMODE=verify-full and PGSSLROOTCERT from the environment)")
            if data.get("ssl") is True:
                verdict.fail("data.ssl says true, but the server's pg_stat_ssl says the backend is not encrypted")
            return
        first = self.seen[0]
        verdict.observed.update(tls_version=first["version"], tls_cipher=first["cipher"])
        verdict.require(first["version"] in self.expect["tls_versions"],
                        f"TLS version {first['version']!r} is not one of {self.expect['tls_versions']}")
        if self.ctx.pooled:
            # The example's own pg_stat_ssl row is PgBouncer's server connection, not its own:
            # the client's TLS is PgBouncer's to tell (SHOW CLIENTS, and its log of the login).
            verdict.observed["tls_at"] = "pgbouncer"
            unencrypted = [r.message[:120] for r in self.ctx.pooler_logins() if r.tls in ("", "no")]
            verdict.require(not unencrypted, f"PgBouncer's log shows login(s) without TLS: {unencrypted[:2]}")
            return
        verdict.compare("data (the backend's own pg_stat_ssl row)",
                        {"ssl": True, "version": first["version"], "cipher": first["cipher"]},
                        {k: data.get(k) for k in ("ssl", "version", "cipher")})
        unencrypted = [r.message[:120] for r in self.ctx.connections_authorized() if SSL_ENABLED not in r.message]
        verdict.require(not unencrypted, f"the server's log shows connection(s) without TLS: {unencrypted[:2]}")


class RefusedCertificate(ScenarioCheck):
    """The driver must refuse the server's certificate: its error says why, no session gets through,
    and the server's log shows that the example did try this server."""

    expects_session = False
    # What the driver's error must be about, for the message when it is not.
    refused_for = "the certificate"

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        error = error_of(data, verdict)
        if error is None:
            return
        if not require_kind(self, error, verdict):
            require_no_session(self, verdict)
            return
        message = str(error.get("message", ""))
        verdict.observed["driver_error"] = f"{error.get('type', '?')}: {message[:160]}"
        verdict.require(bool(re.search(self.expect["message_pattern"], message)),
                        f"the driver's error does not name {self.refused_for}: {message[:200]!r}; if it refuses "
                        f"for the right reason in words of a TLS stack the spec does not know, add them to "
                        f"expect.message_pattern of spec/scenarios/{self.ctx.scenario.name}.yaml and the stack's "
                        "real wording to tests/data/tls_refusals.json (tests/tls_wordings/capture.py makes it); if "
                        "it refuses for another reason, that reason is the example's bug")
        require_no_session(self, verdict)
        self.require_attempt(verdict)

    def require_attempt(self, verdict: Verdict) -> None:
        raise NotImplementedError


@scenario("tls_wrong_ca")
class TlsWrongCa(RefusedCertificate):
    accepted_means = ("the connection succeeded although the root certificate given (PGSSLROOTCERT) did not sign "
                      "the server's: certificate verification is off (sslmode=require or prefer, Node's "
                      "rejectUnauthorized: false, pgjdbc's NonValidatingFactory, a trust-all TrustManager, "
                      "danger_accept_invalid_certs) or the example did not use the given root certificate; "
                      "connect with sslmode=verify-full and PGSSLROOTCERT")

    def require_attempt(self, verdict: Verdict) -> None:
        if self.ctx.pooled:
            aborted = [r.message for r in self.ctx.pooler_handshake_errors()]
            verdict.require(bool(aborted), "PgBouncer saw no TLS handshake aborted by a client during the case: "
                                           "the example did not try TLS against it")
        else:
            aborted = [r.message for r in self.ctx.log if r.message.startswith("could not accept SSL connection")]
            verdict.require(bool(aborted), "the server saw no TLS handshake aborted by a client during the case: "
                                           "the example did not try TLS against this server")
        if aborted:
            verdict.observed["server_saw"] = aborted[0][:160]


@scenario("tls_wrong_host")
class TlsWrongHost(RefusedCertificate):
    """The certificate is good (the run's CA signed it) but names other hosts: only a host-name
    check refuses it."""

    refused_for = "the host name"

    @property
    def accepted_means(self) -> str:
        return (f"the connection to {UNNAMED_ADDRESS} succeeded, although the server's certificate names only "
                f"{', '.join(SERVER_NAMES + SERVER_ADDRESSES)}: host-name verification is off "
                "(sslmode=verify-ca, or require with a root certificate, a 'use SSL' flag mapped to require, "
                "or Node's checkServerIdentity: () => undefined); connect with sslmode=verify-full "
                "(unless the example ignored PGHOST and connected to a name the certificate has)")

    def require_attempt(self, verdict: Verdict) -> None:
        """The handshake succeeds and the client hangs up before its startup message: the server
        logs only `connection received` for that backend, never `connection authorized`."""
        if self.ctx.pooled:
            # PgBouncer logs nothing for a client that hangs up after the handshake: what remains
            # is the driver's error (checked) and that no login reached PgBouncer.
            logins = self.ctx.pooler_logins()
            verdict.require(not logins, f"PgBouncer logged {len(logins)} login(s) of the example: the certificate "
                                        "was accepted: " + "; ".join(r.message[:100] for r in logins[:2]))
            verdict.observed["server_saw"] = "PgBouncer records no line for a client that hangs up after the handshake"
            return
        authorized = {r.pid for r in self.ctx.log if r.message.startswith("connection authorized")}
        dropped = [r for r in self.ctx.log if r.message.startswith("connection received: host=")
                   and "[local]" not in r.message and r.pid not in authorized]
        verdict.require(bool(dropped), "the server saw no TCP connection that ended before its login during the "
                                       "case: the example did not try this server")
        if dropped:
            verdict.observed["server_saw"] = dropped[0].message[:160] + ", then nothing: the client hung up"


class RefusedLogin(ScenarioCheck):
    """The server refuses the login: the driver passes on its reason and SQLSTATE; no session."""

    expects_session = False

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        error = error_of(data, verdict)
        if error is None:
            return
        if require_kind(self, error, verdict):
            require_sqlstate(self, error, verdict)
        require_no_session(self, verdict)


@scenario("plaintext_refused")
class PlaintextRefused(RefusedLogin):
    not_behind_pooler = ("pg_hba.conf's hostssl line then judges PgBouncer's own connection to the server, not the "
                         "example's: the client's TLS ends at PgBouncer (client_tls_sslmode), so what the scenario "
                         "asks of the client is not what the server refuses")
    def prepare(self) -> None:
        self.ctx.controls.force_hostssl(True)


@scenario("auth_wrong_password")
class AuthWrongPassword(RefusedLogin):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        super().verify(data, verdict)
        elapsed = data.get("elapsed_ms")
        if verdict.require(isinstance(elapsed, (int, float)), f"data.elapsed_ms must be a number, got {elapsed!r}"):
            verdict.observed["elapsed_ms"] = elapsed
        self.require_prompt_exit(verdict)

    def require_prompt_exit(self, verdict: Verdict) -> None:
        """From the server's refusal (its FATAL 28P01, by the server's clock) to the process's exit:
        at most exit_within_seconds. A pool's own fail-fast pause counts; a retry loop, a timer or a
        thread that keeps the program alive does not fit."""
        process = self.ctx.process
        limit = float(self.expect["exit_within_seconds"])
        refused = refusals(self)
        if process is None or process.exited_wall is None:
            verdict.fail("the program did not exit on its own after the failed login")
            return
        if process.exit_after_result is not None:
            verdict.observed["exit_after_result_s"] = round(process.exit_after_result, 3)
        if not refused:
            return  # require_sqlstate has said so
        # From the first refusal: a retry loop's later refusals must not restart the clock.
        refused_at = refused[0].timestamp.replace(tzinfo=timezone.utc).timestamp()
        after = max(0.0, process.exited_wall - refused_at)
        retries = len(refused) - 1
        verdict.observed.update(exit_after_refusal_s=round(after, 3), login_retries=retries)
        retried = (f"; it tried the wrong password {len(refused)} times "
                   f"(over {(refused[-1].timestamp - refused[0].timestamp).total_seconds():.1f} s): "
                   "a login the server refused is retried (a pool's retry loop), and a wrong password never succeeds"
                   if retries else ": something (a retrying pool, a timer, a thread) keeps it alive")
        verdict.require(after <= limit,
                        f"the program exited {after:.1f} s after the server first refused the password "
                        f"(limit {limit:.0f} s){retried}")


def _durations(data: dict[str, Any], key: str, count: int, verdict: Verdict) -> list[float] | None:
    values = data.get(key)
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and v >= 0 for v in values):
        verdict.fail(f"data.{key} must be a list of durations in ms (numbers >= 0), got {str(values)[:120]}")
        return None
    if not verdict.require(len(values) == count, f"data.{key} has {len(values)} durations, expected {count}"):
        return None
    return [float(v) for v in values]


def server_auth_ms(log: tuple[LogRecord, ...], authorized: list[LogRecord]) -> list[float]:
    """Per connection, the server's time from `connection received` to `connection authorized`
    (TLS handshake, SCRAM and backend start, as the server sees them)."""
    received = {r.pid: r.timestamp for r in log if r.message.startswith("connection received")}
    return [(r.timestamp - received[r.pid]).total_seconds() * 1000 for r in authorized if r.pid in received]


class ConnectLatency(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        params = self.ctx.params
        connects = _durations(data, "connect_ms", int(params["connections"]), verdict)
        queries = _durations(data, "query_ms", int(params["queries"]), verdict)
        tls = self.ctx.scenario.connection.tls
        authorized = self.ctx.connections_authorized()
        if self.ctx.pooled:
            # The fresh connections are the example's logins at PgBouncer; the server sees only
            # the few PgBouncer opens for them.
            logins = self.ctx.pooler_logins()
            verdict.require(len(logins) >= int(params["connections"]),
                            f"PgBouncer logged {len(logins)} login(s) of the example, "
                            f"fewer than the {params['connections']} fresh connections reported")
            wrong_logins = [r for r in logins if (r.tls not in ("", "no")) != tls]
            verdict.require(not wrong_logins, f"{len(wrong_logins)} login(s) at PgBouncer were {'not ' if tls else ''}"
                                              f"encrypted, but the scenario connects {'with' if tls else 'without'} TLS")
            verdict.observed["server_connections"] = len(authorized)
            authorized = []
        else:
            verdict.require(len(authorized) >= int(params["connections"]),
                            f"the server authorized {len(authorized)} connection(s) of the role, "
                            f"fewer than the {params['connections']} fresh connections reported")
        wrong = [r for r in authorized if (SSL_ENABLED in r.message) != tls]
        verdict.require(not wrong, f"{len(wrong)} connection(s) were {'not ' if tls else ''}encrypted, "
                                   f"but the scenario connects {'with' if tls else 'without'} TLS")
        verdict.observed["tls"] = tls
        verdict.observed["pooled"] = bool(data.get("pooled"))
        connect_p50 = percentile(connects, 50) if connects else None
        query_p50 = percentile(queries, 50) if queries else None
        if connects:
            verdict.observed.update(connect_p50_ms=round(connect_p50, 2), connect_p95_ms=round(percentile(connects, 95), 2))
        if queries:
            verdict.observed.update(query_p50_ms=round(query_p50, 3), query_p95_ms=round(percentile(queries, 95), 3))
        on_server = server_auth_ms(self.ctx.log, authorized)
        if on_server:
            verdict.observed["server_auth_p50_ms"] = round(percentile(on_server, 50), 2)
        verdict.observed["page_claim_ms"] = self.expect.get("page_claim_ms")
        if connect_p50 is not None and query_p50 is not None and self.expect.get("query_p50_below_connect_p50"):
            if self.ctx.pooled:
                # A login at PgBouncer opens no server connection, while a query goes through it to
                # the server: which is faster is for the machine's load to decide, not the example.
                verdict.observed["query_below_connect"] = (
                    f"not asserted through PgBouncer (a login there opens no server connection; query p50 "
                    f"{query_p50:.2f} ms, connect p50 {connect_p50:.2f} ms: timing decides)")
                return
            verdict.require(query_p50 < connect_p50,
                            f"a query on an open connection (p50 {query_p50:.2f} ms) is not faster "
                            f"than a new connection (p50 {connect_p50:.2f} ms)")


@scenario("connect_latency")
class ConnectLatencyPlain(ConnectLatency):
    """Without TLS (the scenario's connection says sslmode=disable)."""


@scenario("connect_latency_tls")
class ConnectLatencyTls(ConnectLatency):
    """With TLS and full verification."""


@scenario("connect_latency_remote")
class ConnectLatencyRemote(ConnectLatency):
    """connect_latency_tls's program, pointed (PGHOST/PGPORT, DATABASE_URL) at the run's simulated
    remote link (harness.delay_link, params.rtt_ms) in front of the server: each driver's own
    connect time beside the page's "100-300 ms remote with SSL", as the probe's link figures are."""

    not_behind_pooler = ("the simulated link is measured straight to the server, as the probe's is; "
                         "through PgBouncer the link would sit in front of the pooler instead")

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.link: DelayLink | None = None

    def endpoint(self, endpoint: Endpoint) -> Endpoint:
        # The same host name (the certificate names it), another port: the relay's on 127.0.0.1,
        # which holds every chunk half the round-trip time each way before passing it on.
        self.link = DelayLink(("127.0.0.1", endpoint.port), float(self.ctx.params["rtt_ms"]))
        self.link.__enter__()   # its acceptor runs until release()
        return replace(endpoint, port=self.link.port)

    def release(self) -> None:
        if self.link is not None:
            self.link.close()
            self.link = None

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        super().verify(data, verdict)
        verdict.observed["link_rtt_ms"] = float(self.ctx.params["rtt_ms"])
        verdict.observed["link"] = "user-space delay line"
