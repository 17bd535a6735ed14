"""One frozen configuration of a run, built once from the flags and the environment.

The command line and the pytest plugin declare their options from the one OPTIONS table, and
nothing else in the harness reads the environment: whatever needs a setting gets this Config."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.backends import REGISTRY as BACKENDS
from harness.backends import unknown_backend
from harness.errors import InputError
from harness.pooler import DIRECT_TOPOLOGY, TOPOLOGIES, Topology, parse_topologies
from harness.pooler.fixes import fix_of

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REMOTE_RTT_MS = 40.0
DEFAULT_DOCKER_BUILD_TIMEOUT = 1800.0
DEFAULT_POSTGRES_IMAGE = "postgres:15"



def process_environment() -> Mapping[str, str]:
    """The process's environment, read-only: the one place the harness reads it (the places of
    tools built on this machine, such as PgBouncer 1.24's prefix, ask here)."""
    return MappingProxyType(dict(os.environ))

@dataclass(frozen=True)
class ProjectPaths:
    """Where the project's parts live (tests point `examples` at deliberately wrong ones)."""

    examples: Path
    spec: Path
    cache: Path
    reports: Path
    root: Path = REPO_ROOT   # the repository: docs/, its templates and pages (HARNESS_ROOT moves it)


@dataclass(frozen=True)
class Option:
    """One option, declared once: argparse and pytest get the same name, type, default and help."""

    dest: str
    flags: tuple[str, ...]
    help: str
    pytest_flags: tuple[str, ...] = ()   # () : the CLI only; else the flags pytest knows it by
    cli: bool = True                     # False: pytest only
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def argparse_kwargs(self) -> dict[str, Any]:
        return {"dest": self.dest, "help": self.help, **self.kwargs}


OPTIONS: tuple[Option, ...] = (
    Option("backend", ("--backend",), "where PostgreSQL and the examples run (default: native)",
           pytest_flags=("--backend",), kwargs={"choices": tuple(BACKENDS), "default": "native"}),
    Option("via", ("--via",), f"the topology each case runs through: {', '.join(TOPOLOGIES)}, "
           "each optionally +<driver fix> of spec/pgbouncer.yaml (repeat it or give a comma-separated list to run several; default: direct)",
           pytest_flags=("--via",), kwargs={"action": "append", "default": None, "metavar": "TOPOLOGY"}),
    Option("rebuild", ("--rebuild",), "build every example even if its sources did not change",
           pytest_flags=("--rebuild",), kwargs={"action": "store_true"}),
    Option("remote_rtt_ms", ("--remote-rtt-ms",),
           f"the lifecycle probe also connects over a simulated link of this round-trip time "
           f"(default {DEFAULT_REMOTE_RTT_MS:g}; 0 turns it off)",
           pytest_flags=("--remote-rtt-ms",),
           kwargs={"type": float, "default": DEFAULT_REMOTE_RTT_MS, "metavar": "MS"}),
    Option("out", ("--out",), "a file for results.json (the reports go beside it), or a directory for both "
           "(default: reports/results.json); checked before the run",
           # A string: a trailing "/" says "a directory" (outputs.resolve), which Path would drop.
           pytest_flags=("--harness-out",), kwargs={"default": None, "metavar": "PATH"}),
    Option("keep", ("--keep",), "after the run, keep the server and every case database up until Ctrl-C, "
           "and say how to connect", kwargs={"action": "store_true"}),
    Option("jobs", ("--harness-jobs",), "pytest: run up to this many of the selected cases at once (default: four "
           "per core, at most 8, within the cores; 1: one at a time, as each test starts)", pytest_flags=("--harness-jobs",), cli=False,
           kwargs={"type": int, "default": None, "metavar": "N"}),
    Option("update_known_failures", ("--update-known-failures",),
           "remove known_failures entries whose case passed (xpassed) from the manifests",
           kwargs={"action": "store_true"}),
)
CONFIG_KEYS = tuple(option.dest for option in OPTIONS)


def add_cli_options(parser: Any) -> None:
    for option in OPTIONS:
        if option.cli:
            parser.add_argument(*option.flags, **option.argparse_kwargs())


def add_pytest_options(group: Any) -> None:
    for option in OPTIONS:
        if option.pytest_flags:
            group.addoption(*option.pytest_flags, **option.argparse_kwargs())


def new_run_id() -> str:
    """Names one run (the docker backend labels everything with it)."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class Config:
    backend: str = "native"
    via: tuple[Topology, ...] = (DIRECT_TOPOLOGY,)   # the topologies each case runs through (parsed once: harness.pooler)
    rebuild: bool = False
    keep: bool = False
    remote_rtt_ms: float = DEFAULT_REMOTE_RTT_MS
    update_known_failures: bool = False
    jobs: int | None = None   # pytest's --harness-jobs (the CLI has its own -j)
    out: str | None = None   # as given; outputs.resolve turns it into the results file
    paths: ProjectPaths = field(default_factory=lambda: paths_from({}))
    run_id: str = field(default_factory=new_run_id)
    pg_bindir: Path | None = None          # HARNESS_PG_BINDIR: the folder holding initdb
    # Where a native server's initdb is kept and copied from (harness.server.cluster_template):
    # HARNESS_INITDB_CACHE, else $XDG_CACHE_HOME/pg-sample-harness/initdb; None: initdb every time.
    initdb_cache: Path | None = None
    postgres_image: str = DEFAULT_POSTGRES_IMAGE   # HARNESS_POSTGRES_IMAGE
    docker_build_timeout: float = DEFAULT_DOCKER_BUILD_TIMEOUT  # HARNESS_DOCKER_BUILD_TIMEOUT
    # The environment the harness was started with: builds and examples inherit it.
    environ: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise unknown_backend(self.backend)
        object.__setattr__(self, "via", parse_topologies(self.via))
        for topology in self.via:   # a driver fix spec/pgbouncer.yaml has not is named here, before the run
            fix_of(self.paths.spec, topology, self.paths.examples)

    @property
    def results_path(self) -> Path:
        """Where results.json goes: --out as a file, or results.json in --out as a directory (an
        existing one, or one written with a trailing '/'), else reports/results.json."""
        from harness.outputs import resolve_name
        return resolve_name(self.out) if self.out else self.paths.reports / "results.json"


def paths_from(environ: Mapping[str, str]) -> ProjectPaths:
    return ProjectPaths(
        examples=Path(environ.get("HARNESS_EXAMPLES", REPO_ROOT / "examples")),
        spec=Path(environ.get("HARNESS_SPEC", REPO_ROOT / "spec")),
        cache=Path(environ.get("HARNESS_CACHE", REPO_ROOT / ".harness")),
        reports=Path(environ.get("HARNESS_REPORTS", REPO_ROOT / "reports")),
        root=Path(environ.get("HARNESS_ROOT", REPO_ROOT)),
    )


def initdb_cache_from(environ: Mapping[str, str]) -> Path:
    if environ.get("HARNESS_INITDB_CACHE"):
        return Path(environ["HARNESS_INITDB_CACHE"])
    user_cache = Path(environ["XDG_CACHE_HOME"]) if environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return user_cache / "pg-sample-harness" / "initdb"


def build_config(flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """The run's Config: `flags` (option dest -> value; None or missing: the default) over the
    environment (os.environ unless given)."""
    env = dict(os.environ if environ is None else environ)
    chosen = {k: v for k, v in (flags or {}).items() if k in CONFIG_KEYS and v is not None}
    timeout = env.get("HARNESS_DOCKER_BUILD_TIMEOUT")
    try:
        build_timeout = float(timeout) if timeout else DEFAULT_DOCKER_BUILD_TIMEOUT
    except ValueError:
        raise InputError("environment", "HARNESS_DOCKER_BUILD_TIMEOUT", f"is {timeout!r}", "give seconds, e.g. 1800") from None
    return Config(
        **chosen,
        paths=paths_from(env),
        run_id=env.get("HARNESS_RUN_ID") or new_run_id(),
        pg_bindir=Path(env["HARNESS_PG_BINDIR"]) if env.get("HARNESS_PG_BINDIR") else None,
        initdb_cache=initdb_cache_from(env),
        postgres_image=env.get("HARNESS_POSTGRES_IMAGE") or DEFAULT_POSTGRES_IMAGE,
        docker_build_timeout=build_timeout,
        environ=MappingProxyType(env),
    )
