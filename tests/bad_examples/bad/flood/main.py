import json
import sys

import _lib as lib

now = lib.server_now()
line = json.dumps({"type": "progress", "pad": "x" * 200}) + "\n"
# Whole lines only, in big writes: every line ends in a newline; there are just too many.
sys.stdout.write(line * (2 * 1024 * 1024 // len(line) + 1))
lib.result({"now": now})
