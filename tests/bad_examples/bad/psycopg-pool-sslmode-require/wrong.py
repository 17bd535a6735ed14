"""examples/python/psycopg-pool as it is, but for one mistake: "sslmode": "require" in the pool's
connection kwargs, which win over PGSSLMODE=verify-full. With a root certificate at hand libpq's
require checks the CA (tls_wrong_ca is still refused) but never the host name: tls_wrong_host
connects to 127.0.0.2, which the server's certificate does not name."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "examples" / "python" / "psycopg-pool"))
import main as sample  # noqa: E402 -- the real example's module, from its folder

sample_create_pool = sample.create_pool


def create_pool(settings=None, open=True, check=None):
    pool = sample_create_pool(settings, open=False, check=check)
    pool.kwargs["sslmode"] = "require"  # the mistake: "encrypted" taken for "verified"
    if open:
        pool.open()
    return pool


sample.create_pool = create_pool
sys.exit(sample.main())
