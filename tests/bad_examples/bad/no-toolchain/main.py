import _lib as lib

# Never reached: the harness must refuse to run an example whose toolchain is missing.
lib.state_file("no-toolchain-ran").write_text("ran")
lib.result({"now": lib.server_now()})
