import _lib as lib

lib.server_now()
