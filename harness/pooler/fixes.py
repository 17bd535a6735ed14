"""Driver fixes (spec/pgbouncer.yaml `fixes:`, and an example's own in its manifest's `pooler.fixes`): a documented setting that makes a sample work in
a pooled topology, passed by the harness from outside (environment and files), never a second
copy of the sample. A fixed case runs in topology "<topology>+<name>" beside the sample as written
(the Topology's `fix`), and `--via <topology>+<name>` selects those rows alone."""

from __future__ import annotations

import fnmatch
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from harness import scratch
from harness.errors import InputError
from harness.pooler import Topology, topology as as_topology
from harness.pooler.known import spec_entries
from harness.server.native import TEMP_PREFIX

KEYS = {"name", "examples", "topologies", "reason", "resolves", "files", "env", "link", "snippet"}
# Also in a fixed case's environment: the dir holding the fix's files and the names of the
# variables it sets, so that an executor running the example elsewhere (a container) can carry
# both over (harness.backends.docker mounts the dir at the same path and passes the variables).
FIX_DIR_VARIABLE = "HARNESS_FIX_DIR"
FIX_NAMES_VARIABLE = "HARNESS_FIX_VARIABLES"


@dataclass(frozen=True)
class DriverFix:
    name: str                      # the row's topology is "<topology>+<name>"
    examples: tuple[str, ...]      # globs of example ids
    topologies: tuple[str, ...]    # the pooled topologies it is for
    reason: str
    env: dict[str, str] = field(default_factory=dict)     # {dir}: the temp dir holding `files`
    files: dict[str, str] = field(default_factory=dict)   # name -> content
    link: str = ""
    resolves: tuple[str, ...] = ()   # the scenarios whose known incompatibility it fixes: they must pass
    snippet: str = ""   # what a user pastes into their own code or config (the reports show it)

    def covers(self, example_id: str, where: Topology) -> bool:
        return where.base.label in self.topologies and any(fnmatch.fnmatch(example_id, p) for p in self.examples)


@lru_cache(maxsize=4)
def load_fixes(spec_dir: Path, examples_dir: Path | None = None) -> tuple[DriverFix, ...]:
    """spec/pgbouncer.yaml's fixes, then the manifests' own `pooler.fixes` under examples_dir."""
    fixes = []
    for where, entry in spec_entries(spec_dir, "fixes", KEYS, ("name", "examples", "topologies", "reason", "resolves", "env",
                                                                  "snippet"), examples_dir):
        if "+" in str(entry["name"]):
            raise InputError(where, "name", f"{entry['name']!r} has a '+'", "name the fix without '+' (it joins the topology)")
        snippet = entry["snippet"]
        if not isinstance(snippet, str) or not snippet.strip():
            raise InputError(where, "snippet", f"of fix {entry['name']!r} is {snippet!r}",
                             "give the line a user pastes into their own code or config, e.g. "
                             "\"jdbc:postgresql://host/db?prepareThreshold=0\"")
        fixes.append(DriverFix(str(entry["name"]), tuple(entry["examples"]), tuple(entry["topologies"]),
                               " ".join(str(entry["reason"]).split()), {str(k): str(v) for k, v in entry["env"].items()},
                               {str(k): str(v) for k, v in (entry.get("files") or {}).items()}, str(entry.get("link", "")),
                               tuple(entry["resolves"]), snippet.strip()))
    return tuple(fixes)


def snippets(spec_dir: Path, examples_dir: Path | None = None) -> dict[str, str]:
    """Each fix's name and its user-facing snippet (results.json `fixes`, read by the reports)."""
    return {fix.name: fix.snippet for fix in load_fixes(spec_dir, examples_dir)}


def fixes_for(spec_dir: Path, example_id: str, where: Topology | str, examples_dir: Path | None = None) -> list[DriverFix]:
    return [fix for fix in load_fixes(spec_dir, examples_dir) if fix.covers(example_id, as_topology(where))]


def fix_of(spec_dir: Path, where: Topology | str, examples_dir: Path | None = None,
           example_id: str | None = None) -> DriverFix | None:
    """The fix a topology names (pgbouncer-transaction+prepareThreshold=0), or None; InputError
    when it names one spec/pgbouncer.yaml has not for that topology."""
    where = as_topology(where)
    if not where.fix:
        return None
    fixes = load_fixes(spec_dir, examples_dir)
    # Two examples may name a fix alike (statement_cache_size=0): the case's example picks its own.
    found = next((f for f in fixes if f.name == where.fix and where.base.label in f.topologies
                  and (example_id is None or f.covers(example_id, where))), None)
    if found is None:
        valid = [f"{t}+{f.name}" for f in fixes for t in f.topologies]
        raise InputError("command line", "--via", f"unknown topology {where.label!r}: no driver fix {where.fix!r} "
                         f"for {where.base.label} in {spec_dir / 'pgbouncer.yaml'} or a manifest's pooler.fixes",
                         f"use one of: {', '.join(valid) or '(no fixes)'}")
    return found


@contextmanager
def applied(fix: DriverFix | None) -> Iterator[dict[str, str]]:
    """The fix's environment, its files written to a temp dir of the run's kind (gone after)."""
    if fix is None:
        yield {}
        return
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}fix-", dir=scratch.parent()))
    try:
        folder.chmod(0o755)
        for name, content in fix.files.items():
            (folder / name).write_text(content)
            (folder / name).chmod(0o644)
        env = {key: value.replace("{dir}", str(folder)) for key, value in fix.env.items()}
        yield {**env, FIX_DIR_VARIABLE: str(folder), FIX_NAMES_VARIABLE: " ".join(sorted(env))}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def topologies_for(spec_dir: Path, via: tuple[Topology, ...], example_id: str,
                   examples_dir: Path | None = None) -> list[Topology]:
    """The run's topologies for one example: each topology of --via, followed by its driver fixes'
    rows for this example; a topology of --via that names a fix, only for an example it covers."""
    chosen: list[Topology] = []
    for where in via:
        if where.fix:
            covered = any(f.name == where.fix for f in fixes_for(spec_dir, example_id, where.base, examples_dir))
            candidates = [where] if covered else []
        else:
            candidates = [where, *(where.with_fix(f.name) for f in fixes_for(spec_dir, example_id, where, examples_dir))]
        chosen += [c for c in candidates if c not in chosen]
    return chosen
