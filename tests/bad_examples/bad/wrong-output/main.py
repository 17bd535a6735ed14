import unicodedata

import _lib as lib

rows = lib.user_rows()
for row in rows:
    # The mistake: an ASCII-folding step (as a wrong client encoding would do) on the way out.
    if row["id"] == 2:
        row["name"] = unicodedata.normalize("NFKD", row["name"]).encode("ascii", "ignore").decode()
lib.result({"rows": rows})
