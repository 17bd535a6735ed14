import sys

import _lib as lib

with lib.connect() as conn:
    conn.execute("SELECT now()")
# The mistake: no handler for the pool's 'error' event. The runtime prints the cause first,
# then a dump of the error object far longer than any tail a report keeps.
print("node:events:497\n      throw er; // Unhandled 'error' event\n      ^\n"
      "error: terminating connection due to administrator command (57P01)", file=sys.stderr)
for line in range(1500):
    print(f"    client_{line}: {{ _queryable: false, _ending: false, buffer: <{'00 ' * 20}> }}", file=sys.stderr)
print("Node.js v18.19.0", file=sys.stderr)
sys.exit(1)
