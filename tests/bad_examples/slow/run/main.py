import os
import time

import _lib as lib

conn = lib.connect()
conn.execute("SELECT now()")
lib.hold_lock("run")
child = lib.locked_sleeper("run-child")
lib.state_file("run-child.pid").write_text(str(child.pid))
lib.state_file("run.pid").write_text(str(os.getpid()))  # the phase marker: written last
while True:
    time.sleep(3600)
