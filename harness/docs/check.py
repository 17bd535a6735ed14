"""`python -m harness docs --check`: the page against its regions, its template and the results
snapshot, both ways. Every problem names the file, the line and the fix; none passes silently.

  markers   a tag unbalanced, nested, duplicated or not ^[a-z0-9_]+$       (regions.scan)
  page      a code block without a tag; a block that differs from its region; a tag whose
            region was deleted or renamed; any line that differs from what the template and the
            snapshot render: prose edited on the page, or a count, date or figure that is not
            the one of the results it was made from (the line, both texts, the command)
  regions   a region no page shows
  results   a results line older than the code: the snapshot's sha256 of the region is not the
            region's sha256 now (its code changed after the results were made), or no results"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.docs.measurements import TABLES
from harness.docs.regions import Problem, Region
from harness.docs.render import REGENERATE, SAMPLE, PageSources, render
from harness.docs.snapshot import example_of_tag


@dataclass(frozen=True)
class Block:
    """A fenced code block on the page."""

    line: int           # of the opening fence
    tag: str | None     # from the `<!-- sample: <tag> -->` line right above the fence
    code: str
    results_line: int   # the first non-blank line after the closing fence (its results line)


def page_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    fence_at: int | None = None
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            if fence_at is None:
                fence_at = index
                continue
            above = lines[fence_at - 1] if fence_at else ""
            match = SAMPLE.match(above.strip())
            code = "\n".join(lines[fence_at + 1:index]) + "\n"
            after = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), index)
            blocks.append(Block(fence_at + 1, match.group(1) if match else None, code, after + 1))
            fence_at = None
    return blocks


def check_page(sources: PageSources, regions: dict[str, Region], snapshot: dict[str, Any]) -> list[Problem]:
    page = sources.rel(sources.page)
    template = sources.rel(sources.template)
    if not sources.page.is_file():
        return [Problem(page, 1, "the page does not exist", f"run `{REGENERATE}` and commit {page}")]
    text = sources.page.read_text(encoding="utf-8")
    problems: list[Problem] = []
    for tag, number in sources.placed():
        if tag not in regions:
            problems.append(Problem(template, number, f"the page shows region {tag!r}, but no example has it "
                                    "(deleted or renamed?)", f"restore [START {tag}]/[END {tag}] in the example, "
                                    f"or change the tag here to the region's new name; then run `{REGENERATE}`"))
    for block in page_blocks(text):
        if block.tag is None:
            problems.append(Problem(page, block.line, "a code block without a tag: the page shows only tested code",
                                    f"put the code in an example between [START <tag>]/[END <tag>] markers and "
                                    f"write `<!-- sample: <tag> -->` in {template}; then run `{REGENERATE}`"))
            continue
        region = regions.get(block.tag)
        if region is None:
            problems.append(Problem(page, block.line, f"the block tagged {block.tag!r} has no region "
                                    "(deleted or renamed?)", f"restore the region in its example, or retag it in "
                                    f"{template}; then run `{REGENERATE}`"))
        elif block.code != region.code:
            first = _first_difference(block.code, region.code)
            problems.append(Problem(page, block.line + 1 + first, f"the block tagged {block.tag!r} differs from its "
                                    f"region in {region.lines} (first at the block's line {first + 1})",
                                    f"edit the code in {region.path}, never the page; then run `{REGENERATE}`"))
        else:
            problems += _stale(page, block, region, snapshot)
    if not problems:
        expected = render(sources, regions, snapshot, TABLES)
        if expected != text:
            index = _first_difference(text, expected)
            says, wanted = _line(text, index), _line(expected, index)
            problems.append(Problem(page, index + 1, f"the page differs from what {template} and "
                                    f"{sources.rel(sources.snapshot)} render (edited by hand, or not regenerated): "
                                    f"the page says {says!r}, they render {wanted!r}",
                                    f"never edit the page: edit the prose in {template} (counts, dates and figures "
                                    f"come from {sources.rel(sources.snapshot)}), then run `{REGENERATE}`"))
    return problems


def _line(text: str, index: int) -> str:
    lines = text.splitlines()
    line = lines[index] if index < len(lines) else "(the end of the page)"
    return line if len(line) <= 160 else line[:157] + "..."


def _stale(page: str, block: Block, region: Region, snapshot: dict[str, Any]) -> list[Problem]:
    example_id = example_of_tag(snapshot, region.tag)
    recorded = (snapshot["examples"].get(example_id or "", {}).get("samples") or {}).get(region.tag)
    if recorded == region.sha256:
        return []
    run = f"python -m harness run --example {region.path.split('/')[1]}/{region.path.split('/')[2]}" \
        if region.path.count("/") >= 3 else "python -m harness run"
    if recorded is None:
        why = "has no results: no run has proved this code"
    else:
        why = (f"is older than the code: region {region.tag!r} ({region.lines}) changed after the results were "
               f"made (results for sha256 {recorded[:12]}, the code now {region.sha256[:12]})")
    return [Problem(page, block.results_line, f"the results line of block {region.tag!r} {why}",
                    f"run `{run}`, then `{REGENERATE}`, and commit the page and its .results.json")]


def _first_difference(a: str, b: str) -> int:
    """Index of the first line where a and b differ (0-based)."""
    a_lines, b_lines = a.splitlines(), b.splitlines()
    for index, (left, right) in enumerate(zip(a_lines, b_lines)):
        if left != right:
            return index
    return min(len(a_lines), len(b_lines))


def unused_regions(regions: dict[str, Region], used: set[str]) -> list[Problem]:
    return [Problem(r.path, r.start, f"region {r.tag!r} is shown on no page",
                    f"write `<!-- sample: {r.tag} -->` in a page template under docs/templates/ (or "
                    "`<!-- samples: unplaced -->`, which places every region no template names), or remove "
                    "its [START]/[END] markers")
            for tag, r in sorted(regions.items()) if tag not in used]
