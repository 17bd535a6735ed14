"""The case's environment: the standard libpq variables (and the same as DATABASE_URL) for the
server's endpoint, as the scenario's `connection` asks, plus the scenario and its parameters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from harness.errors import HarnessError
from harness.janitor import CaseDatabase
from harness.manifest import Example
from harness.pooler import DIRECT_TOPOLOGY, Topology
from harness.server.base import UNNAMED_ADDRESS, Endpoint
from harness.spec import Scenario

# What `connection: {password: wrong}` hands the example: never the role's password.
WRONG_PASSWORD = "not-the-password"
# The harness's own variables never reach an example: it gets exactly the ones set below.
NOT_INHERITED = ("PG", "HARNESS_", "DATABASE_URL")
# Every example runs in a time zone that is not UTC and not the server's (UTC), with a
# half-hour offset and daylight saving time, so a timestamp parsed as naive or local time, or
# formatted without its offset, comes out shifted instead of passing by luck.
EXAMPLE_TZ = "America/St_Johns"


def case_environment(inherited: Mapping[str, str], endpoint: Endpoint, example: Example, scenario: Scenario,
                     db: CaseDatabase) -> dict[str, str]:
    """TLS mode, which CA to trust, the role's password or a wrong one, as the scenario says."""
    app = f"{example.id}::{scenario.name}"
    connection = scenario.connection
    password = db.password if connection.password == "role" else WRONG_PASSWORD
    tls = {"PGSSLMODE": connection.sslmode}
    if connection.sslrootcert != "none":
        if endpoint.tls is None:
            raise HarnessError(f"scenario {scenario.name} needs TLS, but the server has no certificates")
        tls["PGSSLROOTCERT"] = str(endpoint.tls.by_name(connection.sslrootcert))
    url_params = {"application_name": app, "sslmode": connection.sslmode}
    if "PGSSLROOTCERT" in tls:
        url_params["sslrootcert"] = tls["PGSSLROOTCERT"]
    query = urlencode(url_params, quote_via=quote)
    # tls_wrong_host reaches the server by an address its certificate does not name.
    host = endpoint.host if connection.host == "server" else UNNAMED_ADDRESS
    # safe="": a "/" in a password would otherwise end the URL's authority part.
    url = (f"postgresql://{quote(db.role, safe='')}:{quote(password, safe='')}@{host}:{endpoint.port}/"
           f"{quote(db.dbname, safe='')}?{query}")
    env = {k: v for k, v in inherited.items() if not k.startswith(NOT_INHERITED)}
    env.update({
        "PGHOST": host, "PGPORT": str(endpoint.port), "PGDATABASE": db.dbname,
        "PGUSER": db.role, "PGPASSWORD": password, "PGAPPNAME": app, **tls, "TZ": EXAMPLE_TZ,
        "DATABASE_URL": url, "HARNESS_SCENARIO": scenario.runs_as or scenario.name,
        "HARNESS_PARAMS": json.dumps(scenario.params, ensure_ascii=False),
    })
    return env


def reproduce_command(backend: str, example: Example, scenario: str, topology: Topology = DIRECT_TOPOLOGY) -> str:
    option = "" if backend == "native" else f" --backend {backend}"
    via = f" --via {topology.label}" if topology.pooled else ""
    return f"python -m harness run --example {example.id} --scenario {scenario}{option}{via}"
