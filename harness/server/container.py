"""The docker backend's server: PostgreSQL in a container started with testcontainers-python,
on the host's network, bound to 127.0.0.1 on a free port, with the same SERVER_SETTINGS as the
native cluster (passed as `-c name=value` arguments, which the official postgres image hands to
postgres). The harness reads the server's JSON log through SQL (pg_read_binary_file on
log/postgresql.json in the data directory), so nothing else differs from the native server.

Every container carries the run's label (RUN_LABEL=<run id>); Ryuk (testcontainers' reaper,
which needs an image of its own) is disabled, and stop() plus the executor's cleanup remove
what the run made. The image is `postgres:15` unless HARNESS_POSTGRES_IMAGE names another one
(Config.postgres_image); on a machine without a registry, ci/standin-images.sh builds a local
stand-in under that tag. The engine is spoken to through the docker SDK."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from harness import reaper, scratch
from harness.errors import HarnessError
from harness.server.base import HBA_RULES, SERVER_SETTINGS, UNNAMED_ADDRESS, PostgresServer, ServerSettings, free_port, tls_settings
from harness.server.tls import make_run_tls, write_private

if TYPE_CHECKING:
    from docker.models.containers import Container

IMAGE_ENV = "HARNESS_POSTGRES_IMAGE"
RUN_LABEL = "org.pg-sample-harness.run"    # value: the run id; on every container of a run
ROLE_LABEL = "org.pg-sample-harness.role"  # server | example
STARTUP_TIMEOUT_SECONDS = 120.0
READY_POLL_SECONDS = 0.25
# The same choices as the native cluster: SCRAM over TCP, trust only on the container's own socket.
INITDB_ARGS = "--auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8"
# The server's key, certificate and pg_hba.conf come in read-only at SERVER_FILES_MOUNT (owned by
# the host's root); before the image's own entrypoint runs, they are installed where the
# `postgres` account owns them and the key is 0600, as postgres demands.
SERVER_FILES_MOUNT = "/harness-server"
SERVER_FILES_DIR = "/var/lib/postgresql/harness"
INSTALL_SERVER_FILES = (
    f"set -e; mkdir -p {SERVER_FILES_DIR}; "
    f"install -o postgres -g postgres -m 0644 {SERVER_FILES_MOUNT}/server.crt {SERVER_FILES_MOUNT}/pg_hba.conf "
    f"{SERVER_FILES_DIR}/; "
    f"install -o postgres -g postgres -m 0600 {SERVER_FILES_MOUNT}/server.key {SERVER_FILES_DIR}/; "
    'exec docker-entrypoint.sh "$@"'
)
TEMP_PREFIX = reaper.RUN_PREFIX + "tls-"
# The data directory, bind-mounted from the run's directory when that is in memory (harness.scratch:
# a case database's CREATE DATABASE on a disk costs ~0.3 s of kernel CPU); a volume of the image
# otherwise. Only as root: the files are the container's `postgres` account's, and the host must
# remove them after.
DATA_MOUNT = "/var/lib/postgresql/harness-pgdata"

ENGINE_FIX = ("install and start Docker (on Debian as root: ci/docker-engine.sh installs docker.io and starts "
              "dockerd), or run with --backend native")
ENGINE_HINT = "  fix: " + ENGINE_FIX


def engine_problem() -> str:
    """Why the docker backend cannot run here ('' when the CLI and a reachable engine are present).
    The CLI is needed too: each case streams its stdin and stdout through `docker run -i`."""
    if shutil.which("docker") is None:
        return ("the docker CLI is not on PATH\n" + ENGINE_HINT)
    import docker
    try:
        client = docker.from_env(timeout=30)
        try:
            version = client.version().get("Version", "")
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - DockerException, connection errors: all mean "no engine"
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
        return f"no Docker engine answers: {reason}\n" + ENGINE_HINT
    if not version:
        return "the Docker engine did not give its version\n" + ENGINE_HINT
    return ""


def _argument_value(value: str) -> str:
    """postgresql.conf syntax ('x' with '' escapes) -> the literal value a -c argument takes."""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def postgres_arguments(settings: dict[str, str]) -> list[str]:
    argv: list[str] = []
    for key, value in settings.items():
        argv += ["-c", f"{key}={_argument_value(value)}"]
    return argv


def _conninfo_value(value: str) -> str:
    if value and all(ch.isalnum() or ch in "._-/" for ch in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class _StartFailed(Exception):
    def __init__(self, message: str, logs: str) -> None:
        super().__init__(message)
        self.logs = logs


def _postgres_container_class() -> type:
    """testcontainers' PostgresContainer (community path, the old path as a fallback), with a
    readiness check that polls faster, keeps the password out of the command line and gives up
    as soon as the container exits."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # pragma: no cover - older testcontainers
        from testcontainers.postgres import PostgresContainer  # type: ignore[no-redef]
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import ExecConfig

    testcontainers_config.ryuk_disabled = True  # no reaper container: stop() and the labels clean up

    class HarnessPostgresContainer(PostgresContainer):  # type: ignore[misc, valid-type]
        def _connect(self) -> None:
            # Like PostgresContainer._connect: psql inside the container over 127.0.0.1.
            command = ["psql", "--no-psqlrc", "--host", "127.0.0.1", "--port", str(self.port),
                       "--username", self.username, "--dbname", self.dbname, "-Atc", "select 1"]
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            last = ""
            while time.monotonic() < deadline:
                wrapped = self.get_wrapped_container()
                wrapped.reload()
                if wrapped.status in ("exited", "dead"):
                    raise _StartFailed(f"the container exited during startup (status {wrapped.status})", _logs(wrapped))
                try:
                    result = self.exec(ExecConfig(command=command, environment={"PGPASSWORD": self.password}))
                    if result.exit_code == 0:
                        return
                    last = result.output.decode(errors="replace").strip()
                except Exception as exc:  # noqa: BLE001 - the container may be between states
                    last = str(exc)
                time.sleep(READY_POLL_SECONDS)
            raise _StartFailed(f"PostgreSQL did not accept connections within {STARTUP_TIMEOUT_SECONDS:.0f} s "
                               f"(last psql output: {last[-300:]})", _logs(self.get_wrapped_container()))

    return HarnessPostgresContainer


def _logs(container: "Container", lines: int = 40) -> str:
    try:
        return container.logs(tail=lines).decode(errors="replace")
    except Exception:  # noqa: BLE001 - the container may already be gone
        return ""


class ContainerServer(PostgresServer):
    def __init__(self, settings: ServerSettings, image: str, run_id: str,
                 extra_settings: dict[str, str] | None = None, name: str = "postgres") -> None:
        self.settings = settings
        self.image = image
        self.run_id = run_id
        self.extra_settings = extra_settings or {}
        self.host = self.settings.host
        self.port = 0
        self.password = self.settings.superuser_password or secrets.token_urlsafe(18)
        self.container_name = ""
        self.name = name   # in the container's name: a run's second server ("standby") has its own
        self._tc: Any = None  # the testcontainers PostgresContainer
        self._files: Path | None = None  # client certificates and the server's files, on the host

    def _write_files(self) -> None:
        """<tmp>/client: the CAs for examples (mounted into their containers); <tmp>/server:
        the key, certificate and pg_hba.conf for this container, readable by root only."""
        self._files = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=scratch.parent()))
        self._files.chmod(0o755)
        # If this run is killed outright, the next run removes the containers with this label.
        reaper.record_owner(self._files, kind="docker-server", run_id=self.run_id)
        self.client_tls, pair = make_run_tls(self._files / "client", self.run_id)
        server_dir = self._files / "server"
        server_dir.mkdir(mode=0o700)
        (server_dir / "server.crt").write_bytes(pair.certificate_pem)
        (server_dir / "pg_hba.conf").write_text(HBA_RULES)
        write_private(server_dir / "server.key", pair.key_pem)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        problem = engine_problem()
        if problem:
            raise HarnessError(f"the docker backend needs a Docker engine: {problem}")
        self._ensure_image()
        self._write_files()
        container_class = _postgres_container_class()
        last = ""
        for attempt in range(3):  # another process can take the free port between pick and bind
            self.port = free_port()
            self.container_name = f"pgsh-{self.run_id}-{self.name}-{attempt}"
            container = self._make(container_class, attempt)
            self._tc = container
            try:
                container.start()
                return
            except _StartFailed as exc:
                last = f"{exc}\n{exc.logs}"
            except Exception as exc:  # noqa: BLE001 - docker API errors: reported with the logs
                logs = ""
                try:
                    logs = _logs(container.get_wrapped_container())
                except Exception:  # noqa: BLE001
                    pass
                last = f"{type(exc).__name__}: {exc}\n{logs}"
            self._remove()
            if "could not bind" not in last and "Address already in use" not in last:
                break
        raise HarnessError(f"PostgreSQL did not start in a container (image {self.image}):\n{last.strip()[-3000:]}")

    def _ensure_image(self) -> None:
        import docker
        client = docker.from_env(timeout=600)
        try:
            try:
                client.images.get(self.image)
                return
            except docker.errors.ImageNotFound:
                pass
            try:
                client.images.pull(self.image)
                return
            except docker.errors.APIError as exc:
                reason = (str(exc.explanation or exc).strip().splitlines() or ["pull failed"])[-1]
        finally:
            client.close()
        raise HarnessError(
            f"the PostgreSQL image {self.image} is not on this machine and could not be pulled: {reason}\n"
            "  fix: with no registry reachable, build a local stand-in: ci/standin-images.sh "
            f"(or set {IMAGE_ENV} to an image you have)")

    def _make(self, container_class: type, attempt: int = 0) -> Any:
        assert self._files is not None
        settings = dict(SERVER_SETTINGS)
        settings.update(tls_settings(f"{SERVER_FILES_DIR}/server.crt", f"{SERVER_FILES_DIR}/server.key"))
        settings["hba_file"] = f"'{SERVER_FILES_DIR}/pg_hba.conf'"
        settings.update(self.extra_settings)
        settings["listen_addresses"] = f"{self.host},{UNNAMED_ADDRESS}"  # the second for tls_wrong_host
        settings["port"] = str(self.port)
        container = container_class(self.image, port=self.port, username=self.settings.superuser,
                                    password=self.password, dbname="postgres", driver=None)
        container.ports.clear()  # host networking: nothing to publish
        container.with_name(self.container_name)
        container.with_command(["postgres", *postgres_arguments(settings)])
        container.with_env("PGPORT", str(self.port))  # psql inside (readiness, init scripts) and the init server
        container.with_env("POSTGRES_INITDB_ARGS", INITDB_ARGS)
        container.with_env("POSTGRES_HOST_AUTH_METHOD", "scram-sha-256")
        # Host networking: no port mapping, the server binds 127.0.0.1:<port> itself. `network`
        # is given (as None) so that testcontainers does not guess a network for docker-in-docker.
        container.with_kwargs(network_mode="host", network=None, stop_signal="SIGINT",
                              labels={RUN_LABEL: self.run_id, ROLE_LABEL: "server"},
                              entrypoint=["sh", "-c", INSTALL_SERVER_FILES, "sh"])
        container.with_volume_mapping(str(self._files / "server"), SERVER_FILES_MOUNT, "ro")
        if self._files.parent == scratch.MEMORY_DIR and os.geteuid() == 0:
            data = self._files / f"pgdata-{attempt}"   # a retry's initdb starts afresh
            data.mkdir(mode=0o700)
            container.with_volume_mapping(str(data), DATA_MOUNT, "rw")
            container.with_env("PGDATA", DATA_MOUNT)
        return container

    def _wrapped(self) -> "Container | None":
        if self._tc is None:
            return None
        try:
            return self._tc.get_wrapped_container()
        except Exception:  # noqa: BLE001 - not started
            return None

    def _remove(self) -> None:
        container, self._tc = self._tc, None
        if container is None:
            return
        try:
            container.stop(force=True, delete_volume=True)  # docker rm -f -v: the data volume goes too
        except Exception:  # noqa: BLE001 - already gone
            pass

    def stop(self) -> None:
        self._remove()
        files, self._files = self._files, None
        if files is not None:
            shutil.rmtree(files, ignore_errors=True)
            reaper.forget(files)
        self.client_tls = None

    def restart(self) -> None:
        """`docker restart` with SIGINT (a fast shutdown: every client is disconnected), the data
        volume stays; returns when the server accepts connections again."""
        container = self._wrapped()
        if container is None:
            raise HarnessError("the PostgreSQL container is not running")
        container.restart(timeout=30)
        deadline = time.monotonic() + 60
        last = ""
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.admin_conninfo(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.Error as exc:
                last = str(exc).strip()
            time.sleep(0.1)
        raise HarnessError(f"PostgreSQL did not come back after `docker restart`: {last}\n{self.log_tail()}")

    def is_alive(self) -> bool:
        container = self._wrapped()
        if container is None:
            return False
        try:
            container.reload()
        except Exception:  # noqa: BLE001 - removed
            return False
        return container.status == "running"

    def connect_hint(self) -> str:
        return f"docker exec -it {self.container_name} psql -U {self.settings.superuser}"

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        return (f"host={self.host} port={self.port} user={_conninfo_value(self.settings.superuser)} "
                f"password={_conninfo_value(self.password)} dbname={dbname}")

    def log_tail(self, lines: int = 30) -> str:
        container = self._wrapped()
        if container is None:
            return ""
        chunks = [_logs(container, lines)]
        try:
            result = container.exec_run(["sh", "-c", f'tail -n {int(lines)} "$PGDATA/log/postgresql.json"'],
                                        user="postgres")
            if result.exit_code == 0:
                chunks.append(result.output.decode(errors="replace"))
        except Exception:  # noqa: BLE001 - not running
            pass
        return "\n".join(c.rstrip() for c in chunks if c.strip())
