"""pytest runs the matrix's cases the way `harness run` does: all of the session's selected cases
at once, at the default parallelism (harness.schedule), the first time one of them runs;
each case's test then reports its own result. Serially, pytest would wait out every case's
waits one after another (HikariCP's 10 s idle floor, the pool-sizing stories). --harness-jobs 1
runs them one at a time, as each test starts, as before. A batch runs exactly the selected cases:
`-k pgbouncer-session` runs a scenario through that topology only."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from harness import case_costs
from harness.case.pipeline import run_case
from harness.errors import ServerDied
from harness.manifest import Example
from harness.outcome import ScenarioResult
from harness.pooler import DIRECT_TOPOLOGY, Topology, case_key
from harness.runner import collect_matrix
from harness.schedule import default_jobs
from harness.session import HarnessSession


class CaseBatch:
    def __init__(self, jobs: int | None) -> None:
        self.jobs = jobs or default_jobs()
        self._plan: list[tuple[Example, list[str]]] = []
        self._wanted: set[str] = set()   # "<id>::<case key>"
        self._results: dict[str, dict[str, ScenarioResult]] | None = None
        self._errors: list[str] = []
        self.link_probe: Future[dict[str, Any]] | None = None   # the probe's link half, run beside the cases

    def select(self, cases: Iterable[tuple[Example, str, Topology]]) -> None:
        """The cases (example, scenario, topology) left after -k/-m, in collection order."""
        plan: dict[str, tuple[Example, list[str]]] = {}
        for example, name, topology in cases:
            names = plan.setdefault(example.id, (example, []))[1]
            if name not in names:   # one scenario, several topologies: one entry
                names.append(name)
            self._wanted.add(case_costs.key(example.id, case_key(name, topology)))
        self._plan = list(plan.values())

    def result(self, session: HarnessSession, example: Example, name: str,
               topology: Topology = DIRECT_TOPOLOGY) -> ScenarioResult:
        """The case's result; raises ServerDied when the server died before it ran."""
        if self.jobs <= 1 or not any(example.id == e.id and name in names for e, names in self._plan):
            return run_case(session, example, name, topology)
        if self._results is None:
            matrix = collect_matrix(session, self._plan, jobs=self.jobs, only=self._wanted)
            self._results, self._errors = matrix.results, matrix.errors
            self.link_probe = matrix.link_probe
        found = self._results.get(example.id, {}).get(case_key(name, topology))
        if found is None:
            raise ServerDied("; ".join(self._errors) or f"{example.id}::{case_key(name, topology)} did not run")
        return found
