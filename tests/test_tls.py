"""The run's TLS material: a CA that signs the server's certificate for 127.0.0.1 and localhost,
an unrelated CA that does not, and a server key that only its owner can read."""

from __future__ import annotations

import ipaddress
import os
import pwd
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from harness.server.tls import make_run_tls
from tests.support import BadRun


def _verifies(issuer: x509.Certificate, cert: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except Exception:  # noqa: BLE001 - InvalidSignature, or an issuer name that does not match
        return False


def test_the_run_ca_signs_the_server_and_the_wrong_ca_does_not(tmp_path: Path) -> None:
    certificates, pair = make_run_tls(tmp_path / "client", "test-run")
    ca = x509.load_pem_x509_certificate(certificates.ca.read_bytes())
    wrong = x509.load_pem_x509_certificate(certificates.wrong_ca.read_bytes())
    server = x509.load_pem_x509_certificate(pair.certificate_pem)
    assert _verifies(ca, server) and not _verifies(wrong, server)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # clients may read the certificates; no private key is among them
    assert sorted(p.name for p in (tmp_path / "client").iterdir()) == ["ca.crt", "wrong-ca.crt"]
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in (tmp_path / "client").iterdir())
    assert b"PRIVATE KEY" in pair.key_pem


def test_the_native_servers_key_is_0600_and_owned_by_the_server_account(bad: BadRun) -> None:
    bad.session.start()  # another test closes the shared session on purpose; start() brings it back
    server = bad.session.server
    key = server.datadir / "server.key"  # type: ignore[union-attr]
    stat = key.stat()
    assert stat.st_mode & 0o777 == 0o600
    expected_owner = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    assert pwd.getpwuid(stat.st_uid).pw_name == expected_owner
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    assert isinstance(load_pem_private_key(key.read_bytes(), None), ec.EllipticCurvePrivateKey)
