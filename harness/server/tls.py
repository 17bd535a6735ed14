"""The run's TLS material, made fresh for every run: a CA, a server certificate it signs (for
127.0.0.1 and localhost), and a second CA that signed nothing (for `tls_wrong_ca`).

Clients get only certificates (`ca.crt`, `wrong-ca.crt`, world-readable: they are public and the
example containers must read them). The server's key is written 0600 to wherever the backend
puts it; the CAs' own keys never touch the disk."""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.crt"
WRONG_CA_FILE = "wrong-ca.crt"
SERVER_NAMES = ("localhost",)
SERVER_ADDRESSES = ("127.0.0.1",)
VALID_FOR = datetime.timedelta(days=2)


@dataclass(frozen=True)
class ServerKeyPair:
    certificate_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class ClientCertificates:
    """What a client may be handed: the run's CA and a CA that did not sign the server."""

    ca: Path
    wrong_ca: Path

    def by_name(self, name: str) -> Path:
        """The spec's names for them (`sslrootcert: run_ca | wrong_ca`)."""
        return {"run_ca": self.ca, "wrong_ca": self.wrong_ca}[name]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pg-sample-harness"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> ec.EllipticCurvePrivateKey:
    # P-256: fast to make, and every driver here (OpenSSL, Node, the JDK) accepts it.
    return ec.generate_private_key(ec.SECP256R1())


def _certificate(subject: x509.Name, public_key: ec.EllipticCurvePublicKey, issuer: x509.Name,
                 signing_key: ec.EllipticCurvePrivateKey, is_ca: bool) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               # A little slack backwards: a container's clock may lag the host's.
               .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + VALID_FOR)
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=0 if is_ca else None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
    if is_ca:
        return builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    return builder


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _self_signed_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    name = _name(common_name)
    cert = _certificate(name, key.public_key(), name, key, is_ca=True).sign(key, hashes.SHA256())
    return key, cert


def make_run_tls(client_dir: Path, run_id: str) -> tuple[ClientCertificates, ServerKeyPair]:
    """Writes ca.crt and wrong-ca.crt into client_dir; returns the server's pair for the backend."""
    ca_key, ca_cert = _self_signed_ca(f"pg-sample-harness run {run_id} CA")
    _wrong_key, wrong_cert = _self_signed_ca(f"pg-sample-harness run {run_id} unrelated CA")

    server_key = _key()
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in SERVER_ADDRESSES]
    server_cert = (
        _certificate(_name("localhost"), server_key.public_key(), ca_cert.subject, ca_key, is_ca=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    client_dir.mkdir(parents=True, exist_ok=True)
    client_dir.chmod(0o755)
    certificates = ClientCertificates(ca=client_dir / CA_FILE, wrong_ca=client_dir / WRONG_CA_FILE)
    for path, cert in ((certificates.ca, ca_cert), (certificates.wrong_ca, wrong_cert)):
        path.write_bytes(_pem(cert))
        path.chmod(0o644)
    key_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    return certificates, ServerKeyPair(certificate_pem=_pem(server_cert), key_pem=key_pem)


def write_private(path: Path, content: bytes) -> None:
    """A file only its owner reads, created so (never world-readable, not even for a moment)."""
    with open(path, "wb", opener=lambda name, flags: os.open(name, flags, 0o600)) as out:
        out.write(content)
    path.chmod(0o600)
