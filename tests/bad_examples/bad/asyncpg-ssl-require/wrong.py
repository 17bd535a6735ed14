"""examples/python/asyncpg as it is, but for one mistake: create_pool(..., ssl='require') instead of
the environment's verify-full. asyncpg's require loads PGSSLROOTCERT and checks the CA (tls_wrong_ca
is still refused) but turns Python's host-name check off: tls_wrong_host connects to 127.0.0.2,
which the server's certificate does not name."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "examples" / "python" / "asyncpg"))
import main as sample  # noqa: E402 -- the real example's module, from its folder

real_create_pool = sample.asyncpg.create_pool


def create_pool(*args, **kwargs):
    return real_create_pool(*args, **{**kwargs, "ssl": "require"})  # the mistake: encrypted is not verified


sample.asyncpg.create_pool = create_pool
sys.exit(sample.main())
