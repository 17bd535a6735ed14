"""Captures the real wording of a refused server certificate from each TLS stack the examples use
(OpenSSL through Python's ssl and libpq's psql, rustls, Go crypto/tls, Java JSSE, Node), against a
TLS server with the harness's own run material (harness.server.tls): reached as 127.0.0.2 with
the run's CA (the wrong host, tls_wrong_host) and as 127.0.0.1 with the unrelated CA (tls_wrong_ca).
Writes tests/data/tls_refusals.json, which tests/test_tls_wordings.py matches the spec's patterns
against. Run it again when a stack changes its words:

    .venv/bin/python tests/tls_wordings/capture.py   (cargo build --release in rust/ first)
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from harness.server.tls import make_run_tls

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "data" / "tls_refusals.json"
SSL_REQUEST = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"   # PostgreSQL's SSLRequest: answered 'S', then TLS


def serve(listener: socket.socket, context: ssl.SSLContext) -> None:
    while True:
        try:
            raw, _ = listener.accept()
        except OSError:
            return
        with raw:
            try:
                if raw.recv(8, socket.MSG_PEEK) == SSL_REQUEST:
                    raw.recv(8)
                    raw.sendall(b"S")
                with context.wrap_socket(raw, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass


def clients(work: Path) -> dict[str, list[str]]:
    """Each stack's command, to which host, port and CA file are appended."""
    return {
        "openssl (python ssl)": [sys.executable, str(HERE / "client.py")],
        "rustls": [str(HERE / "rust" / "target" / "release" / "tls-wording-rustls")],
        "go crypto/tls": ["go", "run", str(HERE / "client.go")],
        "java jsse": ["java", "-cp", str(work), "Client"],
        "node": ["node", str(HERE / "client.js")],
    }


def libpq(host: str, port: int, ca: Path) -> str:
    conninfo = f"host={host} port={port} sslmode=verify-full sslrootcert={ca} user=x dbname=x connect_timeout=10"
    done = subprocess.run(["psql", conninfo, "-c", "select 1"], capture_output=True, text=True, timeout=60)
    return (done.stderr or done.stdout).strip()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tls-wordings-") as tmp:
        work = Path(tmp)
        certificates, pair = make_run_tls(work, "wordings")
        (work / "server.crt").write_bytes(pair.certificate_pem)
        (work / "server.key").write_bytes(pair.key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(work / "server.crt", work / "server.key")
        listeners = []
        first = socket.create_server(("127.0.0.1", 0))
        port = first.getsockname()[1]
        listeners = [first, socket.create_server(("127.0.0.2", port))]
        for listener in listeners:
            threading.Thread(target=serve, args=(listener, context), daemon=True).start()
        subprocess.run(["javac", "-d", str(work), str(HERE / "Client.java")], check=True)
        cases = {"wrong_host": ("127.0.0.2", certificates.ca), "wrong_ca": ("127.0.0.1", certificates.wrong_ca)}
        found: dict[str, dict[str, str]] = {}
        try:
            for stack, command in clients(work).items():
                found[stack] = {}
                for case, (host, ca) in cases.items():
                    done = subprocess.run([*command, host, str(port), str(ca)], capture_output=True, text=True,
                                          timeout=120)
                    found[stack][case] = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1]
            found["libpq (psql)"] = {case: libpq(host, port, ca) for case, (host, ca) in cases.items()}
        finally:
            for listener in listeners:
                listener.close()
    OUT.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
