"""examples/python/asyncpg as it is, but for one mistake: max_size=20 hard-coded in create_pool, so
the scenario's max (4 in pool_bounded) is never applied: a burst of 16 opens 16 connections."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "examples" / "python" / "asyncpg"))
import main as sample  # noqa: E402 -- the real example's module, from its folder

real_create_pool = sample.asyncpg.create_pool


def create_pool(*args, **kwargs):
    return real_create_pool(*args, **{**kwargs, "max_size": 20})  # the mistake: the page's 20, always


sample.asyncpg.create_pool = create_pool
sys.exit(sample.main())
