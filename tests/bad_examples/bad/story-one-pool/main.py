import _lib as lib
from _lib import PARAMS

# The mistake: one pool for every service, where the story has one pool per service.
shared = lib.MiniPool(PARAMS["pool"]["max"], PARAMS["pool"]["acquire_timeout_ms"], validate=False)
lib.result(lib.story_load([shared] * PARAMS["services"]))
