"""A throwaway PostgreSQL cluster on this machine: initdb + pg_ctl, 127.0.0.1 on a free port and
a private socket dir, all inside one temp dir that stop() deletes.

initdb and postgres refuse to run as root, so as root the cluster is run by the unprivileged
`postgres` account (Debian's postgresql package creates it)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from harness import reaper, scratch
from harness.credentials import scram_verifier
from harness.errors import HarnessError, InputError
from harness.server.base import SERVER_SETTINGS, PostgresServer, ServerSettings, free_port, hba_rules, tls_settings
from harness.server import cluster_template
from harness.server.tls import make_run_tls, write_private

RUN_AS_WHEN_ROOT = "postgres"
TEMP_PREFIX = reaper.RUN_PREFIX
# sun_path holds 108 bytes: <socket dir>/.s.PGSQL.<port> must fit, with its terminating NUL.
MAX_SOCKET_PATH = 107
SOCKET_FILE_LENGTH = len("/.s.PGSQL.65535")


def find_bindir(override: Path | None = None) -> Path:
    """`override` (HARNESS_PG_BINDIR), else Debian's newest /usr/lib/postgresql/<v>/bin, else initdb on PATH."""
    if override:
        return Path(override)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise HarnessError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found.\n"
        "  fix: apt-get install -y postgresql   (or set HARNESS_PG_BINDIR to the folder holding initdb)"
    )


def server_version_of(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True)
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> "15.18"
    match = re.search(r"\(PostgreSQL\) (\S+)", out.stdout)
    return match.group(1) if match else out.stdout.strip()


class NativeServer(PostgresServer):
    def __init__(self, settings: ServerSettings | None = None, bindir: Path | None = None,
                 extra_settings: dict[str, str] | None = None, template_cache: Path | None = None) -> None:
        """template_cache: where initdb's output is kept and copied from (harness.server.cluster_template);
        None: initdb every time."""
        settings = settings or ServerSettings()
        # The socket asks for a password: a server always has one, even when nobody gave it.
        self.settings = settings if settings.superuser_password else replace(settings, superuser_password=secrets.token_urlsafe(18))
        self.bindir = bindir or find_bindir()
        self.extra_settings = extra_settings or {}
        self.host = self.settings.host
        self.port = 0
        self.root: Path | None = None
        self._user = RUN_AS_WHEN_ROOT if os.geteuid() == 0 else None
        self._template_cache = template_cache

    # -- paths ------------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root / "socket"

    @property
    def startup_log(self) -> Path:
        assert self.root is not None
        return self.root / "startup.log"

    # -- process helpers --------------------------------------------------------------------
    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        # A new session: a Ctrl-C on the terminal reaches the harness, which then stops the
        # server in order, instead of reaching the postmaster first. If the harness is
        # interrupted meanwhile, the whole group goes (initdb's bootstrap backend too), so that
        # nothing writes into the data dir while stop() deletes it: SIGTERM first, so that
        # initdb's single-user backend removes its POSIX shared memory (a SIGKILLed one leaves
        # it in /dev/shm), then SIGKILL for whatever is left.
        proc = subprocess.Popen([str(self.bindir / argv[0]), *argv[1:]], user=self._user, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True, cwd="/")
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)

    def _chown(self, path: Path) -> None:
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        if self._user:
            try:
                pwd.getpwnam(self._user)
            except KeyError:
                raise HarnessError(
                    f"running as root, but there is no `{self._user}` account to run initdb and postgres as.\n"
                    "  fix: apt-get install -y postgresql   (it creates the account), or run the harness as a normal user"
                ) from None
        # Name first, create second: a signal between the two still leaves stop() the path.
        root = scratch.parent() / f"{TEMP_PREFIX}{secrets.token_hex(6)}"
        check_socket_path(root / "socket")
        self.root = root
        self.root.mkdir(mode=0o700)
        reaper.record_owner(self.root, kind="native-server")
        os.chmod(self.root, 0o755)
        self._chown(self.root)
        self.socket_dir.mkdir(mode=0o700)
        self._chown(self.socket_dir)

        initial_password = self._make_cluster()
        self._write_tls()
        self._write_config()
        self._start_on_free_port()
        self._set_superuser_password(initial_password)

    def _make_cluster(self) -> str:
        """The data directory, a copy of this machine's template for these binaries and options
        (harness.server.cluster_template) or, the first time, initdb's (then kept as the
        template); returns the superuser's password it was made with."""
        initdb_args = ["-U", self.settings.superuser, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                       "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"]
        cache = self._template_cache
        key = cluster_template.template_key(self.bindir, initdb_args, self._user or str(os.geteuid()))
        template = cluster_template.find(key, cache) if cache is not None else None
        if template is not None:
            try:
                cluster_template.copy_data(template.data, self.datadir)
                return template.password
            except subprocess.CalledProcessError:
                shutil.rmtree(self.datadir, ignore_errors=True)   # a broken template: initdb, as the first time
        assert self.root is not None
        password = secrets.token_urlsafe(18)
        pwfile = self.root / "pw"
        write_private(pwfile, password.encode())
        self._chown(pwfile)
        init = self._run("initdb", "-D", str(self.datadir), f"--pwfile={pwfile}", *initdb_args)
        pwfile.unlink()
        if init.returncode != 0:
            raise HarnessError(f"initdb failed (exit {init.returncode}):\n{init.stdout[-2000:]}{init.stderr[-2000:]}")
        if cache is not None:
            cluster_template.keep(self.datadir, password, key, cache)
        return password

    def _set_superuser_password(self, current: str) -> None:
        """The run's own superuser password in place of the one the cluster was made with (a
        template's is shared by every copy), as a SCRAM verifier: the statement log never holds it."""
        with psycopg.connect(make_conninfo(self.admin_conninfo(), password=current), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(self.settings.superuser), sql.Literal(scram_verifier(self.settings.superuser_password))))

    def _write_tls(self) -> None:
        """Certificates for clients in <root>/tls (readable by all); the key in the data dir,
        0600 and owned by the server's account, as postgres demands."""
        assert self.root is not None
        self.client_tls, pair = make_run_tls(self.root / "tls", self.root.name)  # the CA names this cluster
        (self.datadir / "server.crt").write_bytes(pair.certificate_pem)
        write_private(self.datadir / "server.key", pair.key_pem)
        for name in ("server.crt", "server.key"):
            self._chown(self.datadir / name)

    def _write_config(self) -> None:
        settings = dict(SERVER_SETTINGS)
        settings["unix_socket_directories"] = f"'{self.socket_dir}'"
        # Dynamic shared memory as files in the data directory (pg_dynshmem/), not POSIX segments
        # in /dev/shm: those outlive a postmaster that is killed, the data directory does not.
        settings["dynamic_shared_memory_type"] = "mmap"
        settings.update(tls_settings("server.crt", "server.key"))  # relative to the data dir
        settings.update(self.extra_settings)
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# pg-sample-harness\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        (self.datadir / "pg_hba.conf").write_text(
            hba_rules("scram-sha-256", superuser_over_tcp=False, superuser=self.settings.superuser))

    def _start_on_free_port(self) -> None:
        last = ""
        for _attempt in range(3):  # another process can take the free port between pick and bind
            self.port = free_port()
            self._set_port(self.port)
            result = self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.startup_log), "-w", "-t", "60", "start")
            if result.returncode == 0:
                return
            last = self.log_tail()
            if "could not bind" not in last and "Address already in use" not in last:
                break
        raise HarnessError(f"PostgreSQL did not start:\n{last}")

    def _set_port(self, port: int) -> None:
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {port}\n")

    def restart(self) -> None:
        result = self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.startup_log), "-w", "-t", "60",
                           "-m", "fast", "restart")
        if result.returncode != 0:
            raise HarnessError(f"PostgreSQL did not restart:\n{self.log_tail()}")

    def postmaster_pid(self) -> int | None:
        if self.root is None:
            return None
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def is_alive(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and process_lives(pid)

    def stop(self) -> None:
        if self.root is None:
            return
        if self.datadir.exists():
            pid = self.postmaster_pid()
            try:
                self._run("pg_ctl", "-D", str(self.datadir), "-w", "-t", "20", "-m", "immediate", "stop", timeout=30)
            except subprocess.TimeoutExpired:
                pass
            if pid and self._wait_gone(pid, 5) is False:
                os.kill(pid, signal.SIGKILL)
                self._wait_gone(pid, 5)
        self._remove_root()
        reaper.forget(self.root)
        self.root = None
        self.client_tls = None

    def _remove_root(self, seconds: float = 5.0) -> None:
        """rmtree until the folder stays gone. A signal during `pg_ctl start` kills pg_ctl, not
        the postmaster it has just forked, which may write its pid file and lock files only
        after the first rmtree: such a late postmaster is killed and the folder removed again."""
        assert self.root is not None
        deadline = time.monotonic() + seconds
        while True:
            shutil.rmtree(self.root, ignore_errors=True)
            time.sleep(0.05)   # a process still writing into it shows within this
            late = self.postmaster_pid()
            if late and process_lives(late):
                os.kill(late, signal.SIGKILL)
                self._wait_gone(late, 2)
            if not self.root.exists() or time.monotonic() > deadline:
                return

    @staticmethod
    def _wait_gone(pid: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not process_lives(pid):
                return True
            time.sleep(0.05)
        return False

    def connect_hint(self) -> str:
        """The socket asks for the superuser's password: it goes into a 0600 passfile in the
        run's temp dir (deleted with it), never onto the terminal."""
        assert self.root is not None
        passfile = self.root / "pgpass"
        write_passfile(passfile, self.settings.superuser, self.settings.superuser_password)
        return (f"PGPASSFILE={shlex.quote(str(passfile))} psql -h {shlex.quote(str(self.socket_dir))} "
                f"-p {self.port} -U {self.settings.superuser} -d postgres")

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        # make_conninfo quotes: a TMPDIR with a space in it is a legal socket dir.
        return make_conninfo(host=str(self.socket_dir), port=self.port, user=self.settings.superuser,
                             password=self.settings.superuser_password, dbname=dbname)

    def log_tail(self, lines: int = 30) -> str:
        chunks = []
        for path in (self.startup_log, self.datadir / "log" / "postgresql.json") if self.root else ():
            try:
                chunks.append("\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
            except OSError:
                continue
        return "\n".join(chunks)


def process_lives(pid: int) -> bool:
    """A dead postmaster is a zombie until its parent, init, reaps it: some inits (a VM's or a
    container's) reap only every few seconds, and waiting for that cost ~2 s a stop."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def check_socket_path(socket_dir: Path) -> None:
    """One line with the fix instead of postgres's own complaint deep in a log."""
    length = len(os.fsencode(socket_dir)) + SOCKET_FILE_LENGTH
    if length > MAX_SOCKET_PATH:
        raise InputError("TMPDIR", str(socket_dir.parent.parent), f"is too long: the server's socket path would be "
                         f"{length} bytes, over the {MAX_SOCKET_PATH}-byte limit of Unix sockets",
                         "point TMPDIR at a shorter directory, e.g. TMPDIR=/tmp")


def write_passfile(path: Path, user: str, password: str) -> None:
    def escaped(value: str) -> str:
        return value.replace("\\", "\\\\").replace(":", "\\:")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"*:*:*:{escaped(user)}:{escaped(password)}\n")
