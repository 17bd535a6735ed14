"""The shared PostgreSQL server of a run. `native` starts a throwaway cluster on this machine;
the docker backend supplies the same interface for a container (the executor seam)."""

from harness.server.base import PostgresServer, ServerSettings

__all__ = ["PostgresServer", "ServerSettings"]
