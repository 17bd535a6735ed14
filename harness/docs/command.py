"""`python -m harness docs [--check] [--results FILE ...]`.

  docs           fold the results (reports/results.json, or every --results: the files of one
                 backend are merged first, as `python -m harness.reporting merge` does, so a direct
                 run and a `--via pgbouncer-session,pgbouncer-transaction` run make one) into each
                 page's snapshot, write every page from its template (docs/templates/<page>.md ->
                 docs/<page>.md) with the site of the repository it is in, write
                 reports/samples.json and the per-block badges, then check
  docs --check   check only: reads the committed pages, templates, snapshots and the regions,
                 never a run's results, so it gives the same answer on every machine (a fork's
                 included: the links are checked against the site the page was made for)"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.docs import snapshot as snapshots
from harness.docs.check import check_page, unused_regions
from harness.docs.measurements import TABLES
from harness.docs.regions import Problem, Region, scan
from harness.docs.render import PageSources, render
from harness.docs.site import repository, site_url
from harness.config import build_config


@dataclass(frozen=True)
class DocsTree:
    """Where a repository keeps its examples, page templates, pages and reports."""

    root: Path
    repository: str = ""   # owner/name (harness.docs.site); "" until known

    @classmethod
    def default(cls) -> "DocsTree":
        config = build_config()
        root = config.paths.root.resolve()
        return cls(root, repository(root, config.environ))

    @property
    def examples(self) -> Path:
        return self.root / "examples"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def pages(self) -> list[PageSources]:
        docs = self.root / "docs"
        return [PageSources(template, docs / template.name, docs / f"{template.stem}.results.json", self.root)
                for template in sorted((docs / "templates").glob("*.md"))]

    def regions(self) -> tuple[dict[str, Region], list[Problem]]:
        return scan(self.examples, self.root)


def check(tree: DocsTree) -> tuple[list[Problem], int]:
    """Every problem, and how many blocks were checked."""
    regions, problems = tree.regions()
    used: set[str] = set()
    blocks = 0
    for page in tree.pages():
        tags = set(page.shown(regions))
        used |= tags
        blocks += len(tags)
        problems += check_page(page, regions, snapshots.load(page.snapshot))
    problems += unused_regions(regions, used)
    return problems, blocks


def by_backend(runs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """One run per backend, with the files it was made from: the files of one backend (CI's
    jobs, a direct and a pooled run) merged, a later file winning for the same case."""
    from harness.reporting.__main__ import merge

    grouped: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        grouped.setdefault(run.get("backend") or "native", []).append(run)
    merged = []
    for group in grouped.values():
        merged.append((merge(group) if len(group) > 1 else group[0], group))
    return merged


def generate(tree: DocsTree, results: list[Path], say: Callable[[str], None]) -> list[Problem]:
    regions, problems = tree.regions()
    if problems:
        return problems   # the markers first: a page made from broken regions would mislead
    runs = [json.loads(path.read_text(encoding="utf-8")) for path in results if path.is_file()]
    for path in results:
        if not path.is_file():
            say(f"docs: no {path}: the pages keep the results they quote (run `python -m harness run` first)")
    for page in tree.pages():
        snapshot = snapshots.load(page.snapshot)
        for run, parts in by_backend(runs):
            for note in snapshots.fold(snapshot, run, parts):
                say(f"docs: {page.rel(page.snapshot)}: {note}")
        if tree.repository:
            snapshot["repository"], snapshot["site"] = tree.repository, site_url(tree.repository)
        snapshots.save(snapshot, page.snapshot)
        # Rendered from the file as saved, exactly what `--check` will read back.
        page.page.write_text(render(page, regions, snapshots.load(page.snapshot), TABLES), encoding="utf-8")
        say(f"docs: wrote {page.rel(page.page)}")
    if runs:
        from harness.docs.samples import samples_index, write_samples   # anybadge: only when writing

        for path in write_samples(samples_index([p.page for p in tree.pages()], tree.root, regions, by_backend(runs)[0][0]),
                                  tree.reports):
            say(f"docs: wrote {path.relative_to(tree.root).as_posix() if path.is_relative_to(tree.root) else path}")
    return check(tree)[0]


def write_samples_for_run(run: dict[str, Any], reports_dir: Path) -> list[Path]:
    """reports/samples.json and the per-block badges of a run (called by every report writer)."""
    from harness.docs.samples import samples_index, write_samples

    tree = DocsTree.default()
    regions, _ = tree.regions()
    return write_samples(samples_index([p.page for p in tree.pages()], tree.root, regions, run), reports_dir)


def add_parser(sub: Any) -> None:
    docs = sub.add_parser("docs", help="write docs/backend-connections.md from its template, the examples' "
                                       "regions and the results; --check: verify the committed page")
    docs.add_argument("--check", action="store_true",
                      help="only check: tags well formed, every block equal to its region, every region shown, "
                           "results lines not older than the code; exit 1 naming file, line and fix")
    docs.add_argument("--results", type=Path, action="append", default=[], metavar="FILE",
                      help="results.json to fold in (repeatable: a direct and a --via pgbouncer-session,"
                           "pgbouncer-transaction run, CI's jobs, a docker run; those of one backend are merged; "
                           "default: reports/results.json)")


def cmd_docs(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    tree = DocsTree.default()
    if args.check:
        problems, blocks = check(tree)
    else:
        problems = generate(tree, args.results or [tree.reports / "results.json"], say)
        blocks = sum(len(p.shown(tree.regions()[0])) for p in tree.pages())
    for problem in problems:
        say(problem.render())
    if problems:
        say(f"docs: {len(problems)} problem(s)")
        return 1
    quoted = sorted({key for p in tree.pages() for key in snapshots.load(p.snapshot).get("runs", {})})
    say(f"docs: {blocks} block(s) on {len(tree.pages())} page(s) match their regions; every results line, count, "
        f"date and figure is the snapshot's ({', '.join(quoted) or 'no run recorded'})")
    return 0
