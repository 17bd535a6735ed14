import os
import sys

import _lib as lib

with lib.connect() as conn:
    conn.execute("SELECT now()")
print(f"connecting with password {os.environ['PGPASSWORD']}", flush=True)
print(f"DATABASE_URL={os.environ['DATABASE_URL']}", file=sys.stderr)
sys.exit(1)
