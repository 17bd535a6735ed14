import _lib as lib
from _lib import PARAMS


def rows(cursor):
    return [{"id": i, "name": n} for i, n in cursor.fetchall()]


with lib.connect() as conn:
    # The mistake: "it is only an int", so the id goes into the SQL text; the names are bound.
    by_id = rows(conn.execute(f"SELECT id, name FROM users WHERE id = {int(PARAMS['id'])}"))
    by_name = [rows(conn.execute("SELECT id, name FROM users WHERE name = %s ORDER BY id", [name]))
               for name in PARAMS["names"]]
lib.result({"by_id": by_id, "by_name": by_name})
