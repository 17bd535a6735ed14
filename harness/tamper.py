"""Tamper evidence: nothing outside an example's writable places changes during a run.

Before the first build of a run the harness records every file of the spec, of the harness
itself and of the examples' tree (each example's sources: its build outputs and the ignored
folders such as `.harness` and `__pycache__` are its writable places, not recorded): its
stat (inode, size, mtime, ctime, mode) and a SHA-256 of its content. After each build and each
case the tree is walked again, stat only; a file whose stat differs is hashed again, so a case
costs a directory walk (a few milliseconds) and a hash of what changed.

A change (content or mode changed, a file added or removed) fails the case or build that was
running when it happened (by the file's ctime, which a process cannot set back), naming the
file. The run stops using what changed: the spec and the harness are read before the first
case and not again, and after a change to either, or to a file the examples share, no further
case or build starts (each is reported as not run, naming the file); after a change to an
example's sources that example's further cases do not start. Nothing is restored: the
changed files are left for the developer to see (git status)."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.manifest import DEFAULT_IGNORED

CTIME_SLACK_SECONDS = 0.5   # clock granularity between time.time() and a file system's ctime


@dataclass(frozen=True)
class FileState:
    key: tuple[int, int, int, int, int]   # inode, size, mtime_ns, ctime_ns, mode: the fast path's comparison
    digest: str
    mode: int


@dataclass(frozen=True)
class Change:
    path: Path
    kind: str                 # "changed" | "added" | "removed"
    at: float                 # when it happened (the file's ctime; the time it was found for a removal)

    def describe(self, root: Path) -> str:
        try:
            shown: Path | str = self.path.relative_to(root)
        except ValueError:
            shown = self.path
        return f"{shown} ({self.kind})"


@dataclass(frozen=True)
class ProtectedTree:
    """What a run protects: the spec, the harness and the examples' tree, minus the examples'
    writable places (their build outputs). `example_folders` tells an example's files from the
    files the examples share (tests/bad_examples/_lib.py)."""

    spec: Path
    harness: Path
    examples: Path
    example_folders: dict[Path, str]            # folder -> example id
    excluded: frozenset[Path] = frozenset()     # absolute paths of build outputs
    shown_from: Path = Path("/")                # paths in messages are relative to it (the repository)

    def roots(self) -> list[Path]:
        # The examples' tree may hold the others (a scratch tree) or sit inside them: no file twice.
        roots = sorted({self.spec.resolve(), self.harness.resolve(), self.examples.resolve()}, key=lambda p: len(p.parts))
        return [r for i, r in enumerate(roots) if not any(r.is_relative_to(o) for o in roots[:i])]

    def owner(self, path: Path) -> str | None:
        """The example whose sources hold `path`, or None for the spec, the harness and shared files."""
        for folder, example_id in self.example_folders.items():
            if path.is_relative_to(folder):
                return example_id
        return None


def protected_tree(spec: Path, examples: Path, example_outputs: Iterable[tuple[str, Path, Iterable[str]]],
                   shown_from: Path) -> ProtectedTree:
    """example_outputs: (id, folder, build outputs relative to the folder) per example."""
    import harness
    folders: dict[Path, str] = {}
    excluded: set[Path] = set()
    for example_id, folder, outputs in example_outputs:
        folders[folder.resolve()] = example_id
        excluded |= {(folder / output.strip("/")).resolve() for output in outputs}
    return ProtectedTree(spec, Path(harness.__file__).resolve().parent, examples, folders, frozenset(excluded),
                         shown_from.resolve())


def _walk(root: Path, excluded: frozenset[Path]) -> Iterator[tuple[Path, os.stat_result]]:
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.name in DEFAULT_IGNORED:
                continue
            path = Path(entry.path)
            if path in excluded:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                stack.append(entry.path)
            else:
                yield path, info


def _key(info: os.stat_result) -> tuple[int, int, int, int, int]:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_mode)


def _digest(path: Path, info: os.stat_result) -> str:
    digest = hashlib.sha256()
    try:
        if stat.S_ISLNK(info.st_mode):
            digest.update(b"link\0" + os.readlink(path).encode(errors="surrogateescape"))
        elif stat.S_ISREG(info.st_mode):
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
        else:
            digest.update(b"special\0")
    except OSError as exc:
        digest.update(f"unreadable\0{exc.errno}".encode())
    return digest.hexdigest()


@dataclass
class Watch:
    """One build or case while it runs: the changes found for it."""

    who: str
    started: float
    changes: list[Change] = field(default_factory=list)


class TamperEvidence:
    """The run's record of the protected files, checked after each build and each case."""

    def __init__(self, tree: ProtectedTree) -> None:
        self.tree = tree
        self._lock = threading.Lock()
        self._known: dict[Path, FileState] = {}
        self._active: list[Watch] = []
        self.found: list[tuple[Change, tuple[str, ...]]] = []   # every change of the run, with who ran then
        self.check_seconds: list[float] = []          # what each check cost (docs/performance.md)
        for path, info in self._scan():
            self._known[path] = FileState(_key(info), _digest(path, info), info.st_mode)

    def _scan(self) -> Iterator[tuple[Path, os.stat_result]]:
        for root in self.tree.roots():
            yield from _walk(root, self.tree.excluded)

    def begin(self, who: str) -> Watch:
        watch = Watch(who, time.time())
        with self._lock:
            self._active.append(watch)
        return watch

    def end(self, watch: Watch) -> list[str]:
        """After the build or case: what changed while it ran, one line per file (empty: nothing)."""
        with self._lock:
            start = time.monotonic()
            try:
                self._attribute(self._changes(), watch)
            finally:
                self._active.remove(watch)
                self.check_seconds.append(time.monotonic() - start)
        return [self._line(change, watch) for change in watch.changes]

    def _changes(self) -> list[Change]:
        """Changes since the last check; the record takes them in, so each is found once."""
        now = time.time()
        seen: set[Path] = set()
        changes: list[Change] = []
        for path, info in self._scan():
            seen.add(path)
            known = self._known.get(path)
            if known is not None and known.key == _key(info):
                continue   # the fast path: the stat says nothing happened
            state = FileState(_key(info), _digest(path, info), info.st_mode)
            self._known[path] = state
            if known is None:
                changes.append(Change(path, "added", info.st_ctime))
            elif known.digest != state.digest or known.mode != state.mode:
                changes.append(Change(path, "changed", info.st_ctime))
        for path in [p for p in self._known if p not in seen]:
            del self._known[path]
            changes.append(Change(path, "removed", now))
        return changes

    def _attribute(self, changes: list[Change], ending: Watch) -> None:
        """Each change goes to every build or case that was running when it happened (the one
        ending now included if so); one that happened while none ran goes to the one ending."""
        for change in changes:
            suspects = [w for w in self._active if w.started - CTIME_SLACK_SECONDS <= change.at] or [ending]
            for watch in suspects:
                watch.changes.append(change)
            blamed = tuple(w.who for w in suspects)
            self.found.append((change, blamed))
            print(f"tamper evidence: {change.describe(self.tree.shown_from)} during {' or '.join(blamed)}; "
                  f"{self._consequence(change)}", file=sys.stderr, flush=True)

    def _consequence(self, change: Change) -> str:
        owner = self.tree.owner(change.path)
        if owner is None:
            return "no further build or case of this run starts"
        return f"no further case of {owner} starts in this run"

    def _line(self, change: Change, watch: Watch) -> str:
        others = [who for c, blamed in self.found if c == change for who in blamed if who != watch.who]
        beside = f" (while {', '.join(others)} also ran)" if others else ""
        return (f"changed a file outside its writable places: {change.describe(self.tree.shown_from)}{beside}; "
                "only its build outputs and its scratch folder are its own")

    def summary(self) -> str:
        """One line for the end of a run: what was checked, what it cost, what was found."""
        with self._lock:
            costs, found = sorted(self.check_seconds), len(self.found)
        if not costs:
            return ""
        cost = f"{len(costs)} checks of {len(self._known)} files, median {costs[len(costs) // 2] * 1000:.1f} ms, max {costs[-1] * 1000:.1f} ms"
        if found:
            return f"tamper evidence: {found} protected file(s) changed during the run ({cost}); see the failed cases"
        return f"tamper evidence: the spec, the harness and the examples' sources are unchanged ({cost})"

    def refusal(self, example_id: str) -> str | None:
        """Why a case or build of the example must not start any more (a protected file changed), or None."""
        with self._lock:
            found = list(self.found)
        for change, blamed in found:
            owner = self.tree.owner(change.path)
            if owner is None or owner == example_id:
                what = "its sources" if owner else "the spec, the harness or the examples' shared files"
                return (f"not run: {what} changed during this run ({change.describe(self.tree.shown_from)}, "
                        f"during {' or '.join(blamed)}); restore them (git status) and run again")
        return None


class FirstUse:
    """A session's TamperEvidence, recorded when a build or case first asks (before the first build)."""

    def __init__(self, tree: Callable[[], ProtectedTree]) -> None:
        self._tree = tree
        self._lock = threading.Lock()
        self._evidence: TamperEvidence | None = None

    def get(self) -> TamperEvidence:
        with self._lock:
            if self._evidence is None:
                self._evidence = TamperEvidence(self._tree())
            return self._evidence

    def summary(self) -> str:
        """The run's closing line ('' when nothing was built or run)."""
        with self._lock:
            return self._evidence.summary() if self._evidence is not None else ""
