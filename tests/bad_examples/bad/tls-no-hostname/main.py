import os

import _lib as lib

# The mistake: a "use SSL" flag that maps every TLS wish to sslmode=require. With a root
# certificate at hand libpq then checks the CA (as verify-ca) but never the host name.
os.environ["PGSSLMODE"] = "require"
lib.result(lib.failed_connect(lambda m: "certificate" if "does not match host name" in m else "other"))
