"""OpenSSL's own wording of a refused server certificate (Python's ssl module, host-name check
by OpenSSL as postgres-openssl and Python drivers use it): host port cafile."""

import socket
import ssl
import sys

host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
try:
    with socket.create_connection((host, port), timeout=10) as raw, context.wrap_socket(raw, server_hostname=host):
        print("accepted")
except ssl.SSLError as error:
    print(error)
