from datetime import datetime, timezone

import _lib as lib

# The mistake: the output is made up locally; it is even the right time.
lib.result({"now": datetime.now(timezone.utc).isoformat()})
