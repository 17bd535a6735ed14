import _lib as lib

with lib.connect() as conn:
    # The mistake: the filter runs in Python, so the server sends every user.
    everyone = conn.execute("SELECT id, name, active FROM users ORDER BY id").fetchall()
lib.result({"rows": [{"id": i, "name": n} for i, n, active in everyone if active]})
