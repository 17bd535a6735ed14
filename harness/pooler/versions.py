"""PgBouncer's versions: where each one's binary is, and what the harness sets for it.

1.18 is Debian 12's package (`pgbouncer` on PATH, /usr/sbin/pgbouncer). 1.24.1 is built by
ci/pgbouncer-1.24.sh from Debian 13's orig tarball into a prefix of this machine (the same
places as that script: $HARNESS_PGBOUNCER_1_24; as root /opt/pg-sample-harness/pgbouncer-1.24.1,
which the `postgres` account PgBouncer then runs as can read; else the user's cache). What a
version sets beyond the harness's own pgbouncer.ini (max_prepared_statements for 1.24) is
spec/pgbouncer.yaml's `versions:`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import yaml

from harness.errors import HarnessError, InputError
from harness.pooler import DEFAULT_VERSION, VERSIONS

BUILT = {"1.24": "1.24.1"}   # version of a topology -> the release ci/ builds for it
BUILD_SCRIPT = "ci/pgbouncer-1.24.sh"
VERSION_KEYS = {"settings"}


def built_prefix(version: str, environ: Mapping[str, str] | None = None) -> Path:
    # At call time: harness.config imports the pooler's spec loaders, which import this module.
    from harness.config import process_environment
    env = process_environment() if environ is None else environ
    release = BUILT[version]
    override = env.get(f"HARNESS_PGBOUNCER_{version.replace('.', '_')}")
    if override:
        return Path(override)
    if os.geteuid() == 0:
        return Path("/opt/pg-sample-harness") / f"pgbouncer-{release}"
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return cache / "pg-sample-harness" / f"pgbouncer-{release}"


def find_pgbouncer(version: str = DEFAULT_VERSION) -> str:
    """The binary of that PgBouncer version; HarnessError saying how to get it when missing."""
    if version == DEFAULT_VERSION:
        found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
        if not found:
            raise HarnessError("PgBouncer not found (the pgbouncer topologies need it).\n"
                               "  fix: apt-get install -y pgbouncer   (bash ci/setup.sh installs it)")
        return found
    binary = built_prefix(version) / "bin" / "pgbouncer"
    if not binary.exists():
        raise HarnessError(f"PgBouncer {BUILT[version]} not found at {binary} (the pgbouncer-{version}-* topologies need it).\n"
                           f"  fix: bash {BUILD_SCRIPT}   (bash ci/setup.sh runs it)")
    return str(binary)


@lru_cache(maxsize=4)
def _versions_section(spec_dir: Path) -> dict[str, dict[str, str]]:
    path = spec_dir / "pgbouncer.yaml"
    raw = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
    section = raw.get("versions") or {}
    if not isinstance(section, dict):
        raise InputError(path, "versions", "is not a mapping", 'give one entry per version, e.g. "1.24": {settings: {...}}')
    found: dict[str, dict[str, str]] = {}
    for version, entry in section.items():
        where = f"versions.{version}"
        if str(version) not in VERSIONS:
            raise InputError(path, where, "is not a PgBouncer version the harness runs",
                             f"use one of: {', '.join(VERSIONS)} (quoted, e.g. \"1.24\")")
        if not isinstance(entry, dict) or set(entry) - VERSION_KEYS:
            raise InputError(path, where, "is not a mapping of known keys", f"use: {', '.join(sorted(VERSION_KEYS))}")
        settings = entry.get("settings") or {}
        if not isinstance(settings, dict):
            raise InputError(path, f"{where}.settings", "is not a mapping", "give pgbouncer.ini settings as name: value")
        found[str(version)] = {str(k): str(v) for k, v in settings.items()}
    return found


def version_settings(spec_dir: Path, version: str) -> dict[str, str]:
    """What the harness sets in pgbouncer.ini for this version (spec/pgbouncer.yaml `versions:`)."""
    return dict(_versions_section(spec_dir).get(version, {}))


def tracks_prepared_statements(spec_dir: Path, version: str) -> bool:
    """Does this version run with max_prepared_statements > 0 (PgBouncer 1.21+ then re-prepares a
    client's protocol-level named statements on whichever server connection it gets)?"""
    try:
        return int(version_settings(spec_dir, version).get("max_prepared_statements", "0")) > 0
    except ValueError:
        raise InputError(spec_dir / "pgbouncer.yaml", f"versions.{version}.settings.max_prepared_statements",
                         "is not a number", "give a count, e.g. 200") from None
