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
