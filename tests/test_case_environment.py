"""The case's environment comes from the server's endpoint (where a pooler would stand), never
from the harness's own admin connection, and nothing of the harness's environment leaks in."""

from __future__ import annotations

from pathlib import Path

from harness.case.environment import WRONG_PASSWORD, case_environment
from harness.janitor import CaseDatabase
from harness.server.base import Endpoint
from harness.server.tls import make_run_tls
from tests.fakes import SPEC_LOADED, example

DB = CaseDatabase("ex_fake_example", "s3cret/+", "db_fake_example_select_rows")


def test_the_example_connects_to_the_endpoint_it_is_given(tmp_path: Path) -> None:
    pooler = Endpoint("127.0.0.9", 6432, None)
    inherited = {"PATH": "/usr/bin", "PGPASSWORD": "admin", "HARNESS_RUN_ID": "r", "DATABASE_URL": "x"}
    env = case_environment(inherited, pooler, example(), SPEC_LOADED.scenarios["select_rows"], DB)
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"]) == ("127.0.0.9", "6432", DB.role, DB.password)
    assert env["DATABASE_URL"].startswith("postgresql://ex_fake_example:s3cret%2F%2B@127.0.0.9:6432/"
                                          "db_fake_example_select_rows?application_name=fake%2Fexample%3A%3Aselect_rows")
    assert env["PATH"] == "/usr/bin" and "HARNESS_RUN_ID" not in env
    assert env["HARNESS_SCENARIO"] == "select_rows" and env["PGSSLMODE"] == "disable"


def test_tls_and_a_wrong_password_as_the_scenario_asks(tmp_path: Path) -> None:
    certificates, _pair = make_run_tls(tmp_path / "tls", "test")
    endpoint = Endpoint("127.0.0.1", 5432, certificates)
    tls = case_environment({}, endpoint, example(), SPEC_LOADED.scenarios["tls_wrong_ca"], DB)
    assert tls["PGSSLMODE"] == "verify-full" and tls["PGSSLROOTCERT"] == str(certificates.wrong_ca)
    wrong = case_environment({}, endpoint, example(), SPEC_LOADED.scenarios["auth_wrong_password"], DB)
    assert wrong["PGPASSWORD"] == WRONG_PASSWORD != DB.password


def test_the_example_runs_in_a_time_zone_that_is_neither_utc_nor_the_servers() -> None:
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from harness.server.base import ServerSettings
    env = case_environment({"TZ": "UTC"}, Endpoint("127.0.0.1", 5432, None), example(),
                           SPEC_LOADED.scenarios["types"], DB)
    zone = ZoneInfo(env["TZ"])
    instant = datetime(2024, 2, 29, 23, 59, 58, tzinfo=timezone.utc)
    assert instant.astimezone(zone).utcoffset() not in (None, timezone.utc.utcoffset(None))
    assert env["TZ"] not in str(ServerSettings(superuser_password="x"))


def test_the_fixture_is_loaded_in_no_order_a_scenario_asks_for() -> None:
    from harness.janitor import physical_order
    users = SPEC_LOADED.fixture.users
    loaded = [u["id"] for u in physical_order(users)]
    by_id = sorted(u["id"] for u in users)
    by_name = [u["id"] for u in sorted(users, key=lambda u: u["name"])]
    active_first = [u["id"] for u in sorted(users, key=lambda u: (not u["active"], u["id"]))]
    assert sorted(loaded) == by_id
    assert loaded not in (by_id, by_id[::-1], by_name, by_name[::-1], active_first)
