"""A fresh cluster per run without an initdb per run.

initdb costs about 0.6 s of CPU (bootstrap, the catalogs, the collations, on two cores one
third of a second of the run's start), and the harness starts a server for every run: its own
tests start well over a hundred. So the first initdb for a given set of binaries and options is
kept, as initdb left it (before any configuration, certificate or start), in a cache of the
user's (Config.initdb_cache); later servers copy it (about 0.06 s into memory) instead of running initdb again.

A copy is what initdb makes for the same options, but for two things: every copy has the same
system identifier (it only matters to physical replication between them, which the harness
never sets up), and the superuser's password is the template's, which NativeServer replaces
with the run's own as its first statement, before any case can connect. The template's
password sits beside it, 0600.

Keyed by the binaries (path, size, modification time of initdb and postgres), initdb's
arguments and the account that owns the data: a PostgreSQL update or another option makes a
new template. Written to a temp dir beside it and renamed into place, so a half-made template
is never found; two runs making the same one at once keep the first."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.server.tls import write_private

PASSWORD_FILE = "password"
DATA_DIR = "data"


@dataclass(frozen=True)
class Template:
    data: Path
    password: str


def template_key(bindir: Path, initdb_args: Sequence[str], owner: str) -> str:
    parts = [str(bindir.resolve()), owner, *initdb_args]
    for binary in ("initdb", "postgres"):
        stat = (bindir / binary).stat()
        parts.append(f"{binary}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def find(key: str, root: Path) -> Template | None:
    folder = root / key
    try:
        password = (folder / PASSWORD_FILE).read_text()
    except OSError:
        return None
    return Template(folder / DATA_DIR, password) if (folder / DATA_DIR).is_dir() else None


def keep(datadir: Path, password: str, key: str, root: Path) -> None:
    """Keeps a fresh initdb's data directory as the template for `key` (best effort: a cache that
    cannot be written only means the next run runs initdb too)."""
    staging = root / f".{key}.{secrets.token_hex(6)}"   # of this call alone: two servers may start at once
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging.mkdir(mode=0o700)
        copy_data(datadir, staging / DATA_DIR)
        write_private(staging / PASSWORD_FILE, password.encode())
        os.rename(staging, root / key)
    except (OSError, subprocess.CalledProcessError):
        pass   # another run kept it first (the rename found it there), or no cache here
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def copy_data(source: Path, target: Path) -> None:
    """A data directory with its owners and modes (the server's account, 0700): cp -a, which as
    root keeps the owner, where shutil.copytree would not."""
    subprocess.run(["cp", "-a", "--", str(source), str(target)], check=True, capture_output=True)
