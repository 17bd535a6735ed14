import _lib as lib

with lib.connect() as conn:
    ids = [i for (i,) in conn.execute("SELECT id FROM users ORDER BY id")]
    # The mistake: a query per row for a column the first query could have returned.
    rows = [{"id": i, "name": conn.execute("SELECT name FROM users WHERE id = %s", [i]).fetchone()[0]} for i in ids]
lib.result({"rows": rows})
