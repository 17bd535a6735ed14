"""pg-sample-harness: runs every PostgreSQL client sample of a documentation page against one
real server and checks what it prints and what the server saw against a common spec."""

__version__ = "0.1.0"
