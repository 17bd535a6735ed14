"""What pytest calls a case and where it points: the cases an example's file collects, their
item names (pasteable node ids), the manifest line a skip points at, and the markers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from harness.errors import InputError
from harness.manifest import Example, marker_name
from harness.pooler import DIRECT_TOPOLOGY, Topology
from harness.runner import with_fixes
from harness.session import HarnessSession


def example_cases(session: HarnessSession, example: Example) -> Iterator[tuple[str, Topology, str]]:
    """Every case pytest collects of an example: (scenario, topology, why it is not applicable or
    ""), in spec order per topology. A declared not-applicable case is one per topology of --via
    (not per driver fix: a fix's rows are the cases it runs)."""
    for topology in with_fixes(session, example):
        for name in session.spec.names:
            reason = example.not_applicable.get(name, "")
            if not reason or topology in session.config.via:
                yield name, topology, reason


def short_case_id(nodeid: str) -> str:
    """`<language>/<name>::<item name>` of a node id `.../<language>/<name>/example.yaml::<item name>`."""
    path, _, name = nodeid.partition("::")
    folder = Path(path).parent
    return f"{folder.parent.name}/{folder.name}::{name}"


def item_name(scenario: str, topology: Topology, via: tuple[Topology, ...]) -> str:
    """A case's pytest name: the scenario, with the topology as pytest's parameter id when the run
    has more than direct, so that `::connect_now` selects every topology of it (as a parametrized
    test's name does) and `::connect_now[direct]` exactly one; `[`, `]`, `-` and `+` are also
    words of a -k expression, where `@` (the harness's case key) is not."""
    return scenario if via == (DIRECT_TOPOLOGY,) else f"{scenario}[{topology.label}]"


def manifest_line(path: Path, scenario: str) -> int:
    """The line (from 1) of the manifest that declares the scenario: its entry under
    not_applicable, its name under applies, else the `scenarios:` key, else the first line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    key = next((n for n, line in enumerate(lines) if re.match(r"scenarios\s*:", line)), None)
    if key is None:
        return 1
    entry = re.compile(rf"^\s+(?:-\s*)?[\"']?{re.escape(scenario)}[\"']?\s*:|[\[\s,-][\"']?{re.escape(scenario)}[\"']?\s*(?:[,\]]|$)")
    for number in range(key + 1, len(lines)):
        if lines[number].strip() and not lines[number][0].isspace():
            break   # the next top-level key
        if entry.search(lines[number].split("#", 1)[0]):
            return number + 1
    return key + 1


def harness_markers(declared_lines: list[str], session: HarnessSession, examples: Path) -> dict[str, str]:
    """Each marker once (a language has several examples; a name may be both a language and a
    group), none that the ini file already declares (`declared_lines`: its `markers`)."""
    declared = {line.split(":", 1)[0].strip() for line in declared_lines}
    markers: dict[str, str] = {}
    try:
        for scenario in session.spec.scenarios.values():
            markers.setdefault(scenario.group, f"the scenarios of group {scenario.group} (spec/scenarios/)")
    except InputError:
        pass  # the broken spec file is reported when the cases are collected
    for manifest in sorted(examples.glob("*/*/example.yaml")):
        language, name = manifest.parent.parent.name, manifest.parent.name
        markers.setdefault(language, f"examples in {language}")
        markers.setdefault(marker_name(name), f"the {language}/{name} example")
    return {marker: text for marker, text in markers.items() if marker not in declared}
