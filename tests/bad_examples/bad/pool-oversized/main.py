import _lib as lib
from _lib import PARAMS, SCENARIO, MiniPool

# The mistake: the pool is made with twice the max it was given (a unit mix-up, a default
# that wins over the setting).
pool = MiniPool(PARAMS["pool"]["max"] * 2, PARAMS["pool"]["acquire_timeout_ms"])

if SCENARIO == "pool_acquire_timeout":
    lib.result(lib.second_acquire(pool))
elif SCENARIO == "no_pool_exhaustion":
    lib.result(lib.pooled_then_unpooled(pool))
else:
    lib.unknown_scenario()
