"""The run's configuration: built once from flags and environment, declared once for the CLI and
pytest, and never written back into the environment."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from harness.backends import get_backend
from harness.cli import build_parser
from harness.config import OPTIONS, build_config
from harness.errors import HarnessError, InputError


def test_an_unknown_backend_is_an_error_that_lists_the_known_ones() -> None:
    for make in (lambda: build_config({"backend": "podman"}), lambda: get_backend("podman")):
        with pytest.raises(HarnessError, match=r"unknown backend 'podman'; known backends: native, docker"):
            make()


def test_flags_over_defaults_and_the_environment_read_once(tmp_path: Path) -> None:
    environ = {"HARNESS_EXAMPLES": str(tmp_path / "ex"), "HARNESS_CACHE": str(tmp_path / "cache"),
               "HARNESS_RUN_ID": "run-7", "HARNESS_POSTGRES_IMAGE": "postgres:16", "HARNESS_PG_BINDIR": "/opt/pg/bin",
               "HARNESS_DOCKER_BUILD_TIMEOUT": "60"}
    config = build_config({"backend": "docker", "rebuild": True, "remote_rtt_ms": None}, environ)
    assert (config.backend, config.rebuild, config.remote_rtt_ms) == ("docker", True, 40.0)
    assert config.paths.examples == tmp_path / "ex" and config.paths.cache == tmp_path / "cache"
    assert (config.run_id, config.postgres_image, config.pg_bindir) == ("run-7", "postgres:16", Path("/opt/pg/bin"))
    assert config.docker_build_timeout == 60.0
    assert config.results_path == config.paths.reports / "results.json"
    with pytest.raises(Exception):
        config.backend = "native"  # type: ignore[misc]  # frozen
    with pytest.raises(InputError, match="HARNESS_DOCKER_BUILD_TIMEOUT: is 'soon'"):
        build_config({}, {"HARNESS_DOCKER_BUILD_TIMEOUT": "soon"})


def test_the_cli_and_pytest_declare_the_options_of_one_table(pytestconfig: pytest.Config) -> None:
    cli_flags = {flag for action in build_parser()._subparsers._group_actions[0].choices["run"]._actions  # type: ignore[union-attr]
                 for flag in action.option_strings}
    for option in OPTIONS:
        if option.cli:
            assert set(option.flags) <= cli_flags, option
        if option.pytest_flags:
            pytestconfig.getoption(option.dest)  # raises if pytest does not know it


def test_the_docker_server_does_not_write_the_environment() -> None:
    from harness.server.container import _postgres_container_class
    before = dict(os.environ)
    _postgres_container_class()
    assert dict(os.environ) == before


def test_a_session_does_no_io_when_made_and_list_and_doctor_make_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from harness import cli
    from harness.session import HarnessSession
    from tests.support import config_for

    session = HarnessSession(config_for(tmp_path / "no-such-examples", tmp_path / "no-such-work"))
    assert session.server is None and not (tmp_path / "no-such-work").exists()

    def no_session(*args: object, **kwargs: object) -> None:
        raise AssertionError("list and doctor must not make a session")

    monkeypatch.setattr(cli, "HarnessSession", no_session)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert cli.main(["list"]) == 0
        cli.main(["doctor"])  # its exit code says whether every toolchain is here
    finally:
        for signum, handler in handlers.items():  # main() installs the CLI's own
            signal.signal(signum, handler)
    assert "scenarios" in capsys.readouterr().out
