"""What the rest of the harness needs from a server, whoever started it."""

from __future__ import annotations

import abc
import socket
from collections.abc import Callable
from dataclasses import dataclass

from harness.server.tls import ClientCertificates

# The server's address, and a second loopback address (all of 127/8 is loopback, also for a
# host-networked container) that its certificate does not name: `tls_wrong_host` connects there.
# A client reaching 127.0.0.2 still comes from 127.0.0.1, so pg_hba.conf needs no line for it.
SERVER_ADDRESS = "127.0.0.1"
UNNAMED_ADDRESS = "127.0.0.2"

# One place for the settings both backends give the server: the observations the checks rely on
# (statement and connection log as JSON, pg_stat_statements) and speed over durability.
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": f"'{SERVER_ADDRESS},{UNNAMED_ADDRESS}'",
    "max_connections": "400",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "'all'",
    "pg_stat_statements.max": "20000",  # every case keeps its own shapes (one database per case)
    "logging_collector": "on",
    "log_destination": "'jsonlog'",
    "log_directory": "'log'",
    "log_filename": "'postgresql.log'",
    "log_rotation_age": "0",
    "log_rotation_size": "0",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_statement": "'all'",
    "password_encryption": "'scram-sha-256'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "'UTC'",
}


# A role that is a member of this group may connect only over TLS (`plaintext_refused`).
HOSTSSL_ONLY_GROUP = "harness_hostssl_only"

# pg_hba.conf of both backends: the private socket is the harness's own way in; over TCP every
# role authenticates with SCRAM-SHA-256, over TLS or not, except the members of
# HOSTSSL_ONLY_GROUP, whose plaintext attempts are rejected by name before the catch-all line.
# Natively the examples run as the harness's own OS user, so the socket asks for the superuser's
# password too (a 0700 directory stops nobody of the same uid), and the superuser is refused over
# TCP altogether. Inside a container the socket is out of the examples' reach and stays `trust`.
def hba_rules(local_method: str = "trust", superuser_over_tcp: bool = True, superuser: str = "postgres") -> str:
    tcp_superuser = "" if superuser_over_tcp else f"host      all {superuser} 127.0.0.1/32 reject\n"
    return (
        f"local     all all                     {local_method}\n"
        + tcp_superuser
        + f"hostssl   all +{HOSTSSL_ONLY_GROUP} 127.0.0.1/32 scram-sha-256\n"
        f"hostnossl all +{HOSTSSL_ONLY_GROUP} 127.0.0.1/32 reject\n"
        "host      all all                     127.0.0.1/32 scram-sha-256\n"
    )


HBA_RULES = hba_rules()


def tls_settings(cert_file: str, key_file: str) -> dict[str, str]:
    return {"ssl": "on", "ssl_cert_file": f"'{cert_file}'", "ssl_key_file": f"'{key_file}'",
            "ssl_min_protocol_version": "'TLSv1.2'"}


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now (servers retry if it is taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ServerSettings:
    superuser: str = "postgres"
    superuser_password: str = ""
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class Endpoint:
    """Where the examples and the probe connect (a pooler in front of the server offers its own)."""

    host: str
    port: int
    tls: ClientCertificates | None  # the run's CA (and the unrelated one), when it speaks TLS


@dataclass(frozen=True)
class Admin:
    """The superuser connection, for the harness alone (janitor, observation, controls)."""

    conninfo_for: Callable[[str], str]

    def conninfo(self, dbname: str = "postgres") -> str:
        return self.conninfo_for(dbname)


class PostgresServer(abc.ABC):
    host: str = "127.0.0.1"
    port: int = 0
    # The run's CA (and the unrelated one) once the server runs with TLS.
    client_tls: ClientCertificates | None = None

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the server and delete everything it made. Safe to call twice."""

    @abc.abstractmethod
    def restart(self) -> None:
        """A fast restart (pg_ctl -m fast): every client is disconnected, the data stays."""

    @abc.abstractmethod
    def admin_conninfo(self, dbname: str = "postgres") -> str:
        """A superuser connection string for the harness itself."""

    @property
    def admin(self) -> Admin:
        return Admin(self.admin_conninfo)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.host, self.port, self.client_tls)

    @abc.abstractmethod
    def is_alive(self) -> bool: ...

    def connect_hint(self) -> str:
        """A command a person can paste to look at the server (for --keep); no password in it."""
        return f"psql -h {self.host} -p {self.port} -U postgres"

    @abc.abstractmethod
    def log_tail(self, lines: int = 30) -> str:
        """The server's own startup/crash log, for run-level errors."""

    def __enter__(self) -> "PostgresServer":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
