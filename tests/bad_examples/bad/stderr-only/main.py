import json
import sys

import _lib as lib

print(json.dumps({"type": "result", "scenario": lib.SCENARIO, "data": {"now": lib.server_now()}}), file=sys.stderr)
