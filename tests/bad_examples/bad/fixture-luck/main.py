import json
from datetime import datetime

import _lib as lib
from _lib import PARAMS, SCENARIO

if SCENARIO == "select_rows":
    with lib.connect() as conn:  # The mistake: no ORDER BY; the rows come in the table's physical order.
        lib.result({"rows": [{"id": i, "name": n} for i, n in conn.execute("SELECT id, name FROM users").fetchall()]})
elif SCENARIO == "types":
    v = PARAMS["values"]
    with lib.connect() as conn:
        conn.execute("INSERT INTO type_probe (i8, num, txt, flag, ts, d, bin, doc, arr, nothing) "
                     "VALUES (%s, %s, %s, %s, %s, %s, decode(%s, 'hex'), %s::jsonb, %s, %s)",
                     [int(v["int8"]), v["numeric"], v["text"], v["bool"], v["timestamptz"], v["date"], v["bytea"],
                      json.dumps(v["jsonb"]), v["int_array"], v["null"]])
        row = conn.execute("SELECT i8, num::float8, txt, flag, ts, d::text, encode(bin, 'hex'), doc, arr, nothing "
                           "FROM type_probe ORDER BY id DESC LIMIT 1").fetchone()
    i8, num, txt, flag, ts, d, bin_hex, doc, arr, nothing = row
    lib.result({"values": {
        "int8": str(i8),
        "numeric": num,   # The mistake: read through a double.
        "text": txt, "bool": flag,
        # The mistake: the timestamp as local wall-clock time, its offset dropped (naive).
        "timestamptz": datetime.fromtimestamp(ts.timestamp()).isoformat(timespec="milliseconds"),
        "date": d, "bytea": bin_hex, "jsonb": doc, "int_array": arr, "null": nothing}})
