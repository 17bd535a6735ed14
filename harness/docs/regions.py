"""Tagged regions in the examples' sources: the code the documentation page shows.

A region is the lines between `[START <tag>]` and `[END <tag>]` markers, each marker alone on a
line in its language's comment syntax (`// [START node_pg_client]`, `# [END python_psycopg2]`).
Tags match ^[a-z0-9_]+$ and are unique across every example. The page shows the region's lines
without the markers, dedented; its sha256 ties the page's results line to the code that ran.

A helper of the program that a region calls but does not show (the harness's way of reading
PG*, a row converter) is named by a marker above its definition, outside any region:
`// [HELPER sslFromEnv] the TLS options PGSSLMODE and PGSSLROOTCERT ask for`. The page
names and explains, under each block, every helper of the same file that its code uses."""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

TAG = re.compile(r"^[a-z0-9_]+$")
# A marker line: a comment opener, then [START x] or [END x]. The tag is checked separately so
# that a badly named one is reported instead of ignored.
MARKER = re.compile(r"^\s*(?://|#|--|/\*)\s*\[(START|END)\s+([^\]]*?)\s*\]\s*(?:\*/)?\s*$")
HELPER = re.compile(r"^\s*(?://|#|--|/\*)\s*\[HELPER\s+([A-Za-z_][A-Za-z0-9_]*)\]\s*(.*?)\s*(?:\*/)?\s*$")

# File endings that can hold regions, and the fence language the page gives their code.
LANGUAGES = {".js": "javascript", ".mjs": "javascript", ".ts": "typescript", ".py": "python",
             ".java": "java", ".kt": "kotlin", ".cpp": "cpp", ".cc": "cpp", ".hpp": "cpp", ".h": "cpp",
             ".go": "go", ".rs": "rust", ".cs": "csharp", ".rb": "ruby", ".sql": "sql"}
# Build outputs and installed dependencies are not the example's own sources.
SKIP_DIRS = {"node_modules", "target", "build", "__pycache__", ".venv", "venv", ".git"}


@dataclass(frozen=True)
class Problem:
    """Something the check rejects: where, what, and how to fix it."""

    path: str   # relative to the repository root
    line: int
    message: str
    fix: str

    def render(self) -> str:
        return f"{self.path}:{self.line}: {self.message}\n    fix: {self.fix}"


@dataclass(frozen=True)
class Region:
    tag: str
    path: str        # relative to the repository root, '/'-separated
    start: int       # line of the START marker (1-based)
    end: int         # line of the END marker
    code: str        # the lines between the markers, dedented, ending in a newline
    # (name, what it does) of each helper of its file that the code uses, from [HELPER] markers
    helpers: tuple[tuple[str, str], ...] = ()

    @property
    def first_line(self) -> int:
        return self.start + 1

    @property
    def last_line(self) -> int:
        return self.end - 1

    @property
    def lines(self) -> str:
        """`file:first-last`, the code's own lines (markers excluded)."""
        return f"{self.path}:{self.first_line}-{self.last_line}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.code.encode("utf-8")).hexdigest()

    @property
    def language(self) -> str:
        return LANGUAGES.get(Path(self.path).suffix, "")

    def to_json(self) -> dict[str, object]:
        return {"tag": self.tag, "file": self.path, "lines": [self.first_line, self.last_line],
                "sha256": self.sha256, "language": self.language, "code": self.code}


def source_files(folder: Path) -> list[Path]:
    """Every file under folder that may hold regions, in a stable order."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part in SKIP_DIRS or part.startswith(".") for part in relative[:-1]):
            continue
        if path.is_file() and path.suffix in LANGUAGES:
            found.append(path)
    return found


def parse_file(path: Path, root: Path) -> tuple[list[Region], list[Problem]]:
    """The regions of one file, and what is wrong with its markers."""
    name = path.relative_to(root).as_posix()
    regions: list[Region] = []
    problems: list[Problem] = []
    open_tag: tuple[str, int] | None = None
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    helpers: list[tuple[str, str]] = []
    for number, text in enumerate(lines, start=1):
        if helper := HELPER.match(text):
            if not helper.group(2):
                problems.append(Problem(name, number, f"helper {helper.group(1)!r} has no explanation",
                                        f"say in a few words what it does after the name: "
                                        f"[HELPER {helper.group(1)}] <what it does>"))
            helpers.append((helper.group(1), helper.group(2)))
            continue
        match = MARKER.match(text)
        if not match:
            continue
        kind, tag = match.group(1), match.group(2)
        if not TAG.match(tag):
            problems.append(Problem(name, number, f"region tag {tag!r} is not ^[a-z0-9_]+$",
                                    f"rename it in lower case with digits and underscores, e.g. "
                                    f"{_suggest(tag)!r}, at both markers and in the page's template"))
            continue
        if kind == "START":
            if open_tag:
                problems.append(Problem(name, number, f"[START {tag}] inside region {open_tag[0]!r} "
                                        f"(opened at line {open_tag[1]}): regions do not nest",
                                        f"close {open_tag[0]!r} with [END {open_tag[0]}] before line {number}"))
                continue
            open_tag = (tag, number)
        elif not open_tag:
            problems.append(Problem(name, number, f"[END {tag}] without a matching [START {tag}]",
                                    f"add [START {tag}] above it, or delete this marker"))
        elif open_tag[0] != tag:
            problems.append(Problem(name, number, f"[END {tag}] closes region {open_tag[0]!r} "
                                    f"(opened at line {open_tag[1]})",
                                    f"write [END {open_tag[0]}] here, or rename the START marker"))
            open_tag = None
        else:
            body = "\n".join(lines[open_tag[1]:number - 1])
            code = textwrap.dedent(body).strip("\n") + "\n"
            regions.append(Region(tag, name, open_tag[1], number, code))
            open_tag = None
    if open_tag:
        problems.append(Problem(name, open_tag[1], f"[START {open_tag[0]}] is never closed",
                                f"add [END {open_tag[0]}] after the region's last line"))
    return [_with_helpers(region, helpers) for region in regions], problems


def _with_helpers(region: Region, helpers: list[tuple[str, str]]) -> Region:
    used = tuple((name, what) for name, what in helpers if re.search(rf"(?<![\w.]){re.escape(name)}\b", region.code))
    return Region(region.tag, region.path, region.start, region.end, region.code, used)


def _suggest(tag: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", tag.lower()).strip("_") or "sample"


def scan(folder: Path, root: Path) -> tuple[dict[str, Region], list[Problem]]:
    """Every region under folder by tag, and every marker problem (duplicated tags included)."""
    by_tag: dict[str, Region] = {}
    problems: list[Problem] = []
    if not folder.is_dir():
        return by_tag, problems
    for path in source_files(folder):
        regions, file_problems = parse_file(path, root)
        problems += file_problems
        for region in regions:
            first = by_tag.get(region.tag)
            if first:
                problems.append(Problem(region.path, region.start,
                                        f"region tag {region.tag!r} is also used at {first.path}:{first.start}",
                                        "tags are unique across the repository: rename one of them"))
                continue
            by_tag[region.tag] = region
    return by_tag, problems


def example_regions(example_dir: Path, root: Path) -> list[Region]:
    """The well-formed regions of one example folder (for results.json and the report)."""
    regions, _ = scan(example_dir, root)
    return list(regions.values())
