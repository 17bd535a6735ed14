import _lib as lib

now = lib.server_now()
print(f"Connected to PostgreSQL, server time is {now}", flush=True)  # belongs on stderr
lib.result({"now": now})
