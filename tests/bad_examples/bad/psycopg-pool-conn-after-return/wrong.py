"""examples/python/psycopg-pool as it is, but for one mistake: each burst task runs one more query
on its connection after the `with pool.connection()` block has given it back. The connection is
the pool's again (idle, and lent to the next task), and psycopg opens a transaction for that
query (autocommit is off) that nobody ends: pool_release finds the backends 'idle in
transaction' after the work."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "examples" / "python" / "psycopg-pool"))
import main as sample  # noqa: E402 -- the real example's module, from its folder


def burst(pool, tasks, sleep_seconds, in_transaction=False):
    def task(_):
        with pool.connection() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_sleep(%s)", (sleep_seconds,))
        conn.execute("SELECT 1")  # the mistake: after the block, conn belongs to the pool

    return sample.run_all(tasks, task)


sample.burst = burst
sys.exit(sample.main())
