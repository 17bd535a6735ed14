import _lib as lib

users = lib.active_user_rows()
held = []
with lib.connect() as conn:
    for user in users:  # the mistake: one query per user, where one query for all would do
        held += conn.execute("SELECT user_id, symbol, shares FROM holdings WHERE user_id = %s ORDER BY id",
                             [user["id"]]).fetchall()
lib.result({"users": lib.users_with_holdings(users, held)})
