"""Every way in it should NOT have: the superuser over TCP, another example's role, the
servers' private sockets (the test lists them in intruder-targets.json). What it got goes to
intruder.json; its whole environment to intruder-env.json (the test looks for secrets in it)."""

import json
import os

import psycopg

import _lib as lib

targets = json.loads(lib.state_file("intruder-targets.json").read_text())
mine = os.environ.pop("PGPASSWORD")  # every attempt below says which password it sends, if any
os.environ.pop("PGPASSFILE", None)
host, port = os.environ["PGHOST"], os.environ["PGPORT"]
attempts: dict[str, str] = {}


def attempt(name: str, **params: str) -> None:
    try:
        psycopg.connect(**{"connect_timeout": 5, "sslmode": "prefer", **params}).close()
        attempts[name] = "connected"
    except psycopg.Error as exc:
        attempts[name] = "refused: " + (str(exc).strip().splitlines() or ["?"])[-1][:200]


attempt("control: my own role over TCP", host=host, port=port, user=os.environ["PGUSER"], password=mine,
        dbname=os.environ["PGDATABASE"])
for password in (mine, ""):
    label = "with my password" if password else "without a password"
    attempt(f"superuser over TCP {label}", host=host, port=port, user="postgres", password=password, dbname="postgres")
    attempt(f"another example's role over TCP {label}", host=host, port=port, user=targets["victim_role"],
            password=password, dbname="postgres")
    for socket_dir, socket_port in targets["sockets"]:
        attempt(f"superuser through the socket {socket_dir} {label}", host=socket_dir, port=str(socket_port),
                user="postgres", password=password, dbname="postgres", sslmode="disable")
lib.state_file("intruder.json").write_text(json.dumps(attempts, indent=1))
lib.state_file("intruder-env.json").write_text(json.dumps({**os.environ, "PGPASSWORD(popped)": mine}))
os.environ["PGPASSWORD"] = mine
lib.result({"now": lib.server_now()})
