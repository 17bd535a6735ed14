import _lib as lib

with lib.connect() as conn:
    conn.execute("SELECT now()")
    raise RuntimeError("deliberate crash after SELECT now()")
