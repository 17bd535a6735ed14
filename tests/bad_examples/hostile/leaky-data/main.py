import os

import _lib as lib

secret = os.environ["PGPASSWORD"]
with lib.connect() as conn:
    conn.execute(f"SELECT '{secret}' AS leaked")  # the statement log shows the literal
rows = lib.user_rows()
rows[0]["name"] = secret
lib.result({"rows": rows})
