import _lib as lib

setting, value = lib.PARAMS["setting"], lib.PARAMS["value"]
with lib.connect() as first, lib.connect() as second:
    lib.checkpoint("connected")
    first.execute("SELECT set_config(%s, %s, false)", [setting, value])
    other = second.execute("SELECT current_setting(%s, true)", [setting]).fetchone()[0]
    lib.checkpoint("before_read_back")
    # The mistake: client 1 reports the value it set, never asking the server, so a lost SET
    # (behind transaction pooling) would pass unseen.
    lib.result({"read_back": value, "other_client_read": other})
