"""The lifecycle probe: the page's connection steps, each timed on its own, against the run's
server. No driver hides a step here: the probe speaks the protocol itself (scramp does the
SCRAM-SHA-256 arithmetic), so the waterfall shows what each step costs on this machine:

  resolve   name resolution of the server's host name (getaddrinfo, as drivers do)
  tcp       the TCP connect
  tls       SSLRequest plus the TLS handshake, verifying the chain and the host name (verify-full)
  auth      startup message to AuthenticationOk (SCRAM-SHA-256 against pg_hba.conf)
  ready     AuthenticationOk to ReadyForQuery (the backend starting up)
  query     SELECT 1 and its response, to ReadyForQuery

Driver connect times (connect_latency) cover resolve..ready plus the driver's own work."""

from __future__ import annotations

import socket
import ssl
import struct
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.delay_link import DelayLink
from harness.stats import summary_ms

STEPS = ("resolve", "tcp", "tls", "auth", "ready", "query")
SSL_REQUEST_CODE = 80877103
PROTOCOL_3_0 = 196608
AUTH_OK, AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL = 0, 10, 11, 12
APPLICATION_NAME = "pg-sample-harness lifecycle probe"


class ProbeError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    host_name: str      # resolved on every sample (the step being timed)
    port: int
    user: str
    password: str
    dbname: str = "postgres"
    ca_file: Path | None = None  # set: TLS with full verification against this CA


@dataclass
class Sample:
    ms: dict[str, float] = field(default_factory=dict)
    tls_version: str = ""
    auth_mechanism: str = ""


class _Wire:
    """Just enough of the frontend/backend protocol v3 for startup, one query and Terminate."""

    def __init__(self, sock: socket.socket | ssl.SSLSocket) -> None:
        self.sock = sock
        self.buffer = b""

    def send(self, kind: bytes, payload: bytes) -> None:
        self.sock.sendall(kind + struct.pack("!I", len(payload) + 4) + payload)

    def _read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProbeError("the server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def receive(self) -> tuple[bytes, bytes]:
        kind = self._read(1)
        (length,) = struct.unpack("!I", self._read(4))
        payload = self._read(length - 4)
        if kind == b"E":
            fields = dict((f[:1].decode(), f[1:].decode(errors="replace")) for f in payload.split(b"\0") if f)
            raise ProbeError(f"{fields.get('S', 'ERROR')} {fields.get('C', '?')}: {fields.get('M', '')}")
        return kind, payload

    def until(self, wanted: bytes) -> bytes:
        while True:
            kind, payload = self.receive()
            if kind == wanted:
                return payload


def _startup(target: Target) -> bytes:
    params = {"user": target.user, "database": target.dbname, "application_name": APPLICATION_NAME}
    body = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items()) + b"\0"
    return struct.pack("!II", len(body) + 8, PROTOCOL_3_0) + body


def _authenticate(wire: _Wire, target: Target) -> str:
    """SCRAM-SHA-256 (without channel binding) until AuthenticationOk; returns the mechanism."""
    import scramp   # here, not at the top: its ASN.1 library is a tenth of the CLI's start-up, and few runs probe

    client: scramp.ScramClient | None = None
    while True:
        kind, payload = wire.receive()
        if kind != b"R":
            raise ProbeError(f"expected an authentication request, got message {kind!r}")
        (code,) = struct.unpack("!I", payload[:4])
        if code == AUTH_OK:
            return client.mechanism_name if client else "trust"
        if code == AUTH_SASL:
            offered = [m.decode() for m in payload[4:].split(b"\0") if m]
            client = scramp.ScramClient([m for m in offered if m == "SCRAM-SHA-256"] or offered,
                                        target.user, target.password)
            first = client.get_client_first().encode()
            wire.send(b"p", client.mechanism_name.encode() + b"\0" + struct.pack("!i", len(first)) + first)
        elif code == AUTH_SASL_CONTINUE and client is not None:
            client.set_server_first(payload[4:].decode())
            wire.send(b"p", client.get_client_final().encode())
        elif code == AUTH_SASL_FINAL and client is not None:
            client.set_server_final(payload[4:].decode())
        else:
            raise ProbeError(f"the server asked for authentication method {code}, not SCRAM-SHA-256")


def probe_once(target: Target, timeout: float = 10.0) -> Sample:
    sample = Sample()
    clock = time.perf_counter
    start = clock()
    infos = socket.getaddrinfo(target.host_name, target.port, socket.AF_INET, socket.SOCK_STREAM)
    sample.ms["resolve"] = (clock() - start) * 1000
    address = infos[0][4]
    start = clock()
    raw = socket.create_connection(address, timeout=timeout)
    sample.ms["tcp"] = (clock() - start) * 1000
    sock: socket.socket | ssl.SSLSocket = raw
    try:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.ca_file is not None:
            start = clock()
            raw.sendall(struct.pack("!II", 8, SSL_REQUEST_CODE))
            if raw.recv(1) != b"S":
                raise ProbeError("the server refused TLS (SSLRequest answered 'N')")
            context = ssl.create_default_context(cafile=str(target.ca_file))  # verify-full: chain and name
            sock = context.wrap_socket(raw, server_hostname=target.host_name)
            sample.ms["tls"] = (clock() - start) * 1000
            sample.tls_version = sock.version() or ""
        wire = _Wire(sock)
        start = clock()
        sock.sendall(_startup(target))
        sample.auth_mechanism = _authenticate(wire, target)
        sample.ms["auth"] = (clock() - start) * 1000
        start = clock()
        wire.until(b"Z")
        sample.ms["ready"] = (clock() - start) * 1000
        start = clock()
        wire.send(b"Q", b"SELECT 1\0")
        wire.until(b"Z")
        sample.ms["query"] = (clock() - start) * 1000
        wire.send(b"X", b"")
    finally:
        sock.close()
    return sample


def measure(target_plain: Target, target_tls: Target, samples: int) -> dict[str, Any]:
    """`samples` fresh connections without and with TLS; p50/p95 per step, in ms."""
    result: dict[str, Any] = {}
    probe_once(target_plain)  # warm caches (resolver, the server's first fork) out of the figures
    for mode, target in (("plain", target_plain), ("tls", target_tls)):
        runs = [probe_once(target) for _ in range(samples)]
        steps = {step: summary_ms([r.ms[step] for r in runs]) for step in STEPS if step in runs[0].ms}
        totals = [sum(r.ms.values()) for r in runs]
        result[mode] = {"steps": steps, "total": summary_ms(totals),
                        "connect": summary_ms([sum(v for k, v in r.ms.items() if k != "query") for r in runs]),
                        "auth_mechanism": runs[0].auth_mechanism, "tls_version": runs[0].tls_version or None}
    return result


def measure_link(target_plain: Target, target_tls: Target, rtt_ms: float, samples: int = 10) -> dict[str, Any]:
    """The waterfall over a simulated link of that round-trip time (harness.delay_link), for the
    page's "remote with SSL" figure."""
    with DelayLink(("127.0.0.1", target_plain.port), rtt_ms) as link:
        remote = measure(replace(target_plain, port=link.port), replace(target_tls, port=link.port), samples)
    return {"rtt_ms": rtt_ms, "samples": samples, "link": "user-space delay line", **remote}


def run_probe(target_plain: Target, target_tls: Target, samples: int = 30, remote_rtt_ms: float = 0,
              remote: dict[str, Any] | None = None) -> dict[str, Any]:
    """The local waterfall, and with remote_rtt_ms > 0 the same over a simulated link (measured
    now, unless `remote` holds it measured already)."""
    result: dict[str, Any] = {"host": target_plain.host_name, "port": target_plain.port, "samples": samples}
    result.update(measure(target_plain, target_tls, samples))
    if remote is not None:
        result["remote"] = remote
    elif remote_rtt_ms > 0:
        result["remote"] = measure_link(target_plain, target_tls, remote_rtt_ms)
    return result
