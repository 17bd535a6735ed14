"""The cutover story's ledger stream with two lies: under story_pause_resume_cutover every tenth
transaction is rolled back but reported as acknowledged; under story_pause_resume_limit a
failed transaction is swallowed and reported as acknowledged too."""
import threading
import time

import psycopg

import _lib as lib

p = lib.PARAMS
acknowledged, failed, latency_ms = [], [], []
lock, streaming = threading.Lock(), threading.Event()
streaming.set()


def connection() -> psycopg.Connection:
    while True:   # a login during the pause can be cut off too: try again
        try:
            conn = lib.connect()
            break
        except psycopg.OperationalError:
            time.sleep(0.1)
    conn.prepare_threshold = None   # transaction pooling: no named server-side statements
    return conn


def writer(w: int) -> None:
    conn = connection()
    n = 0
    while streaming.is_set():
        n += 1
        row_id = w * 1000000 + n
        start = time.perf_counter()
        try:
            conn.execute("BEGIN")
            conn.execute("INSERT INTO ledger (id, writer) VALUES (%s, %s)", [row_id, w])
            conn.execute("ROLLBACK" if lib.SCENARIO.endswith("cutover") and n % 10 == 0 else "COMMIT")
        except psycopg.Error:
            conn.close()
            conn = connection()      # the mistake (limit): the error is swallowed, the write "succeeded"
        with lock:
            acknowledged.append(row_id)   # the mistake (cutover): a rolled-back write reported as done
            latency_ms.append([row_id, (time.perf_counter() - start) * 1000])
        time.sleep(p["interval_ms"] / 1000)
    conn.close()


threads = [threading.Thread(target=writer, args=(w,)) for w in range(1, p["writers"] + 1)]
for thread in threads:
    thread.start()
time.sleep(p["stream_before_seconds"])
lib.checkpoint("streaming")
time.sleep(p["stream_after_seconds"])
streaming.clear()
for thread in threads:
    thread.join()
lib.result({"acknowledged": acknowledged, "failed": failed, "latency_ms": latency_ms})
