"""A server after the first is a copy of the kept initdb (no initdb of its own), logs in only with
the run's own superuser password (the template's no longer works), and a template made for
other binaries or options is never used."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from harness.server import cluster_template
from harness.server.native import NativeServer


def _started(commands: list[str], monkeypatch: pytest.MonkeyPatch, cache: Path) -> NativeServer:
    server = NativeServer(template_cache=cache)
    real_run = server._run

    def noting(*argv: str, **kwargs: object):  # type: ignore[no-untyped-def]
        commands.append(argv[0])
        return real_run(*argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(server, "_run", noting)
    server.start()
    return server


def test_the_second_server_copies_the_kept_initdb_and_takes_the_runs_own_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "initdb"
    first_commands: list[str] = []
    first = _started(first_commands, monkeypatch, cache)
    try:
        assert first_commands[0] == "initdb"
        kept = list(cache.iterdir())
        assert len(kept) == 1 and (kept[0] / "data" / "PG_VERSION").is_file()
        template_password = (kept[0] / cluster_template.PASSWORD_FILE).read_text()
        assert (kept[0] / cluster_template.PASSWORD_FILE).stat().st_mode & 0o077 == 0
    finally:
        first.stop()

    second_commands: list[str] = []
    second = _started(second_commands, monkeypatch, cache)
    try:
        assert "initdb" not in second_commands, second_commands
        with psycopg.connect(second.admin_conninfo(), autocommit=True) as conn:
            assert conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0] > 0
            # The copy is a cluster of its own: none of the first server's objects, nothing but initdb's.
            assert conn.execute("SELECT count(*) FROM pg_database").fetchone()[0] == 3
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(host=str(second.socket_dir), port=second.port, user=second.settings.superuser,
                            password=template_password, dbname="postgres").close()
    finally:
        second.stop()


def test_another_postgresql_build_or_other_initdb_options_get_a_template_of_their_own(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("initdb", "postgres"):
        (bindir / name).write_text("v1")
    args = ["-U", "harness", "-E", "UTF8"]
    key = cluster_template.template_key(bindir, args, "postgres")
    assert cluster_template.template_key(bindir, [*args, "--data-checksums"], "postgres") != key
    assert cluster_template.template_key(bindir, args, "1000") != key
    (bindir / "postgres").write_text("v2, after an update")
    assert cluster_template.template_key(bindir, args, "postgres") != key
    assert cluster_template.find(key, tmp_path / "cache") is None


def test_two_servers_keeping_the_same_template_at_once_leave_one_and_no_staging(tmp_path: Path) -> None:
    data = tmp_path / "initdb-output"
    (data / "base").mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    cache = tmp_path / "cache"
    errors: list[BaseException] = []

    def keep(password: str) -> None:
        try:
            cluster_template.keep(data, password, "k", cache)
        except BaseException as exc:  # noqa: BLE001 - a server start would have failed with it
            errors.append(exc)

    threads = [threading.Thread(target=keep, args=(f"password-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert [p.name for p in cache.iterdir()] == ["k"]
    template = cluster_template.find("k", cache)
    assert template is not None and (template.data / "PG_VERSION").read_text() == "15\n"
    assert template.password.startswith("password-")
