import json
import sys

import _lib as lib

sys.stdout.write(json.dumps({"type": "result", "scenario": lib.SCENARIO, "data": {"now": lib.server_now()}}))
sys.stdout.flush()
