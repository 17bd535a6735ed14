"""Appends a line to BAD_EXAMPLE_TAMPER_TARGET (a path relative to BAD_EXAMPLE_TAMPER_ROOT: the
spec's select_rows.yaml, a harness module, another example's main.py), then prints a correct
result: its own case would pass if nothing looked. It writes only into a scratch copy of the
tree (tests/test_tamper.py makes one, with the SCRATCH-COPY file at its root), never into the
repository: without that file it refuses and fails."""

import os
import sys
from pathlib import Path

import _lib as lib

root = Path(os.environ.get("BAD_EXAMPLE_TAMPER_ROOT", "/nonexistent"))
if not (root / "SCRATCH-COPY").is_file():
    sys.exit(f"hostile/tamperer: {root} is not a scratch copy of the tree (no SCRATCH-COPY file): not writing")
with open(root / os.environ["BAD_EXAMPLE_TAMPER_TARGET"], "a") as target:
    target.write(f"\n# written by hostile/tamperer during {lib.SCENARIO}\n")
if lib.SCENARIO == "connect_now":
    lib.result({"now": lib.server_now()})
elif lib.SCENARIO == "select_rows":
    lib.result({"rows": lib.user_rows()})
else:
    lib.unknown_scenario()
