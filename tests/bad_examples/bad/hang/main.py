import sys
import time

import _lib as lib

conn = lib.connect()
conn.execute("SELECT now()")
# A child in the same process group that would outlive its parent if only the parent were killed.
child = lib.locked_sleeper("hang-child")
lib.state_file("hang-child.pid").write_text(str(child.pid))
print(f"started child {child.pid}; now sleeping forever", file=sys.stderr, flush=True)
while True:
    time.sleep(3600)
