import subprocess
import sys
import time

import _lib as lib

conn = lib.connect()
conn.execute("SELECT now()")
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
lib.state_file("run-child.pid").write_text(str(child.pid))
lib.state_file("run.pid").write_text(str(__import__("os").getpid()))
while True:
    time.sleep(3600)
