"""examples/python/asyncpg as it is, but for one mistake: the fix for PgBouncer's transaction
pooling is read (STATEMENT_CACHE_SIZE=0) and never reaches create_pool, which keeps asyncpg's
statement cache of 100 named statements per connection. Behind transaction pooling the burst after
the harness killed every server connection meets server connections that know none of them:
26000 (prepared statement "__asyncpg_stmt_N__" does not exist)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "examples" / "python" / "asyncpg"))
import main as sample  # noqa: E402 -- the real example's module, from its folder

real_create_pool = sample.asyncpg.create_pool


def create_pool(*args, **kwargs):
    return real_create_pool(*args, **{**kwargs, "statement_cache_size": 100})  # the mistake: the cache stays on


sample.asyncpg.create_pool = create_pool
sys.exit(sample.main())
