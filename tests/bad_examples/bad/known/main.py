import _lib as lib

if lib.SCENARIO == "connect_now":
    lib.result({"now": lib.server_now()})
elif lib.SCENARIO == "select_rows":
    rows = lib.user_rows()
    rows[1]["name"] = rows[1]["name"].replace("ë", "e")
    lib.result({"rows": rows})
else:
    lib.unknown_scenario()
