"""Prints a correct result, but first double-forks (setsid) a daemon that keeps a database
connection and the inherited stdout open and holds a lock on daemon.lock while it lives: the
test takes the lock after the case to prove the daemon is dead."""

import fcntl
import os
import sys
import time

import _lib as lib

ready = lib.state_file("daemon.ready")
child = os.fork()
if child == 0:
    os.setsid()
    if os.fork():
        os._exit(0)
    lock = open(lib.state_file("daemon.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    conn = lib.connect()
    conn.execute("SELECT 1")
    ready.write_text("1")
    while True:  # stdout stays open: it is the example's own, inherited
        time.sleep(1)
os.waitpid(child, 0)
deadline = time.monotonic() + 10
while not ready.exists() and time.monotonic() < deadline:
    time.sleep(0.02)
print("daemon started", file=sys.stderr, flush=True)
lib.result({"now": lib.server_now()})
