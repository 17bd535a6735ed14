import psycopg

from _lib import PARAMS, result


def rows(cursor):
    return [{"id": i, "name": n} for i, n in cursor.fetchall()]


# Correct quoting, by the driver, but on the client (ClientCursor), while example.yaml says
# `binding: server`: the manifest's claim is the mistake.
with psycopg.connect("", autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
    by_id = rows(conn.execute("SELECT id, name FROM users WHERE id = %s", [PARAMS["id"]]))
    by_name = [rows(conn.execute("SELECT id, name FROM users WHERE name = %s ORDER BY id", [name]))
               for name in PARAMS["names"]]
result({"by_id": by_id, "by_name": by_name})
