"""`python -m harness docs [--check] [--results FILE ...]`.

  docs           fold the latest results (reports/results.json) into each page's snapshot, write
                 every page from its template (docs/templates/<page>.md -> docs/<page>.md), write
                 reports/samples.json and the per-block badges, then check
  docs --check   check only: reads the committed pages, templates, snapshots and the regions,
                 never a run's results, so it gives the same answer on every machine"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.docs import snapshot as snapshots
from harness.docs.check import check_page, template_tags, unused_regions
from harness.docs.measurements import TABLES
from harness.docs.regions import Problem, Region, scan
from harness.docs.render import PageSources, render
from harness.config import build_config


@dataclass(frozen=True)
class DocsTree:
    """Where a repository keeps its examples, page templates, pages and reports."""

    root: Path

    @classmethod
    def default(cls) -> "DocsTree":
        return cls(build_config().paths.root.resolve())

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
        tags = {tag for tag, _ in template_tags(page.template)}
        used |= tags
        blocks += len(tags)
        problems += check_page(page, regions, snapshots.load(page.snapshot))
    problems += unused_regions(regions, used)
    return problems, blocks


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
        for run in runs:
            for note in snapshots.fold(snapshot, run):
                say(f"docs: {page.rel(page.snapshot)}: {note}")
        snapshots.save(snapshot, page.snapshot)
        page.page.write_text(render(page, regions, snapshot, TABLES), encoding="utf-8")
        say(f"docs: wrote {page.rel(page.page)}")
    if runs:
        from harness.docs.samples import samples_index, write_samples   # anybadge: only when writing

        for path in write_samples(samples_index([p.page for p in tree.pages()], tree.root, regions, runs[-1]),
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
                      help="results.json to fold in (repeatable, e.g. a native and a docker run; "
                           "default: reports/results.json)")


def cmd_docs(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    tree = DocsTree.default()
    if args.check:
        problems, blocks = check(tree)
    else:
        problems = generate(tree, args.results or [tree.reports / "results.json"], say)
        blocks = sum(len(template_tags(p.template)) for p in tree.pages())
    for problem in problems:
        say(problem.render())
    if problems:
        say(f"docs: {len(problems)} problem(s)")
        return 1
    say(f"docs: {blocks} block(s) on {len(tree.pages())} page(s) match their regions; results lines current")
    return 0
