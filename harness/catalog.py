"""What a run can run: the spec (fixture and scenarios) and the examples found under examples/.
`list` and `doctor` read only this; they start no session."""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.config import ProjectPaths
from harness.errors import InputError
from harness.manifest import Discovery, Example, discover
from harness.spec import Spec, load_spec


@dataclass(frozen=True)
class Catalog:
    spec: Spec
    discovery: Discovery

    @property
    def examples(self) -> list[Example]:
        return self.discovery.examples


def with_siblings(example: Example, spec: Spec) -> Example:
    """An example applies a `runs_as:` sibling wherever it applies the scenario the sibling runs
    as (unless its manifest names the sibling itself): the sibling needs no program change."""
    added = tuple(s.name for s in spec.scenarios.values() if s.runs_as in example.applies
                  and s.name not in example.applies and s.name not in example.not_applicable)
    return replace(example, applies=example.applies + added) if added else example


def load_catalog(paths: ProjectPaths) -> Catalog:
    spec = load_spec(paths.spec)
    for scenario in spec.scenarios.values():
        if scenario.runs_as and scenario.runs_as not in spec.scenarios:
            raise InputError(paths.spec / "scenarios" / f"{scenario.name}.yaml", "runs_as",
                             f"names {scenario.runs_as!r}, which is no scenario", "name a scenario under spec/scenarios/")
    discovery = discover(paths.examples, spec.names)
    return Catalog(spec, replace(discovery, examples=[with_siblings(e, spec) for e in discovery.examples]))
