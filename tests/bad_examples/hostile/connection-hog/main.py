"""Opens 450 connections (more than the server's max_connections of 400) and holds the ones it
got, says so in hog.json, and waits (at most 30 s) for the test to write hog.release, having run
a well-behaved example meanwhile; then prints a correct result. Without a connection limit for
its role it would take every slot of the server from its neighbours."""

import json
import time

import psycopg

import _lib as lib

ATTEMPTS = 450
held: list[psycopg.Connection] = []
refusals: dict[str, int] = {}
for _ in range(ATTEMPTS):
    try:
        held.append(psycopg.connect("", autocommit=True, connect_timeout=5))
    except psycopg.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or ["?"])[-1][:120]
        refusals[reason] = refusals.get(reason, 0) + 1
lib.state_file("hog.json").write_text(json.dumps({"held": len(held), "refused": refusals}))
deadline = time.monotonic() + 30
while not lib.state_file("hog.release").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
now = held[0].execute("SELECT now()").fetchone()[0].isoformat()
for conn in held:
    conn.close()
lib.result({"now": now})
