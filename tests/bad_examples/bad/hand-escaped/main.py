import _lib as lib
from _lib import PARAMS


def quote(value):
    # The mistake: quoting by hand. Doubling single quotes is not enough where a backslash
    # escapes a quote (standard_conforming_strings = off).
    return "'" + str(value).replace("'", "''") + "'"


def rows(cursor):
    return [{"id": i, "name": n} for i, n in cursor.fetchall()]


with lib.connect() as conn:
    by_id = rows(conn.execute(f"SELECT id, name FROM users WHERE id = {int(PARAMS['id'])}"))
    by_name = [rows(conn.execute(f"SELECT id, name FROM users WHERE name = {quote(name)} ORDER BY id"))
               for name in PARAMS["names"]]
lib.result({"by_id": by_id, "by_name": by_name})
