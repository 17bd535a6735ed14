"""What a run can run: the spec (fixture and scenarios) and the examples found under examples/.
`list` and `doctor` read only this; they start no session."""

from __future__ import annotations

from dataclasses import dataclass

from harness.config import ProjectPaths
from harness.manifest import Discovery, Example, discover
from harness.spec import Spec, load_spec


@dataclass(frozen=True)
class Catalog:
    spec: Spec
    discovery: Discovery

    @property
    def examples(self) -> list[Example]:
        return self.discovery.examples


def load_catalog(paths: ProjectPaths) -> Catalog:
    spec = load_spec(paths.spec)
    return Catalog(spec, discover(paths.examples, spec.names))
