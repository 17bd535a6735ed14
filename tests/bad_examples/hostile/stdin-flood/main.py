"""Sends checkpoint after checkpoint and never reads a reply: the harness's replies pile up
in the pipe. The case must still end at its 3 s timeout (plus a few seconds)."""

import json
import sys

line = json.dumps({"type": "checkpoint", "name": "flood"}) + "\n"
while True:
    sys.stdout.write(line * 64)
    sys.stdout.flush()
