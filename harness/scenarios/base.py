"""The seam between the spec and the checks: a `ScenarioCheck` per scenario name, looked up in a
registry. A check acts at the example's checkpoints through the case's controls and then judges
its `data` and the server's record of the case (harness.case.context), collecting every problem
instead of stopping at the first."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from harness.case.context import CaseContext
from harness.pooler import Topology, topology as as_topology

if TYPE_CHECKING:
    from harness.server.base import Endpoint


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    observed: dict[str, Any] = field(default_factory=dict)
    diffs: list[str] = field(default_factory=list)
    # One per problem: the reason code a known failure can name (harness.expected_error); "" for
    # a problem that has none (a known failure then names it by its message or SQLSTATE).
    codes: list[str] = field(default_factory=list)

    def fail(self, problem: str, code: str = "") -> None:
        self.problems.append(problem)
        self.codes.append(code)

    def require(self, condition: bool, problem: str, code: str = "") -> bool:
        if not condition:
            self.fail(problem, code)
        return condition

    def compare(self, what: str, expected: Any, actual: Any) -> bool:
        if expected == actual:
            return True
        self.fail(f"{what} differs from the spec", f"differs:{what}")
        self.diffs.append(f"--- expected {what}\n+++ actual {what}\n" + unified(expected, actual))
        return False


def pretty(value: Any) -> list[str]:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str).splitlines()


def unified(expected: Any, actual: Any) -> str:
    lines = difflib.unified_diff(pretty(expected), pretty(actual), lineterm="", n=2)
    return "\n".join(line for line in lines if not line.startswith(("---", "+++")))


class ScenarioCheck:
    """Base: no checkpoints expected, `verify` judges the result's data."""

    name: ClassVar[str] = ""
    # True for a case that disturbs the whole server (a restart): it runs alone under --jobs.
    exclusive: ClassVar[bool] = False
    # False for a scenario whose connections must fail: then the check proves on its own that
    # the example reached the server (the harness otherwise requires an authorized session).
    expects_session: ClassVar[bool] = True
    # Why the scenario cannot mean anything through PgBouncer (n/a for the pooled topologies),
    # or None: it runs through every topology.
    not_behind_pooler: ClassVar[str | None] = None
    # The same, for transaction pooling only (a client has no server connection of its own there).
    not_in_transaction_pooling: ClassVar[str | None] = None
    # The same, for session pooling only (a story whose fix or whose mechanism is transaction pooling).
    not_in_session_pooling: ClassVar[str | None] = None

    def __init__(self, ctx: CaseContext) -> None:
        self.ctx = ctx
        self.expect = ctx.scenario.expect

    def page_claim_figures(self, story: str = "") -> dict[str, str]:
        """The page's claim of `story` (this scenario by default; spec `page_claim:`) as figures
        (observed `page`, `page_quote`), for the reports to set beside the measurement; {} without one."""
        scenario = self.ctx.spec.scenarios.get(story) if story else self.ctx.scenario
        claim = scenario.page_claim if scenario is not None else None
        return {"page": claim.figure, "page_quote": claim.quote} if claim is not None else {}

    @classmethod
    def not_behind(cls, where: Topology | str) -> str | None:
        """The n/a reason of this scenario for `where` (a topology or its label), or None when it runs there."""
        topology = as_topology(where)
        reason = cls.not_behind_pooler if topology.pooled else None
        if reason is None:
            reason = {"transaction": cls.not_in_transaction_pooling,
                      "session": cls.not_in_session_pooling}.get(topology.pool_mode)
        return None if reason is None else f"n/a through {topology.label}: {reason}"

    def prepare(self) -> None:
        """Before the example starts (e.g. a connection limit for the role, through ctx.controls)."""

    def run_params(self) -> dict[str, Any]:
        """The parameters the example gets (HARNESS_PARAMS): the scenario's, unless the check
        resolves some for this server in prepare() (e.g. pool sizes from its cores)."""
        return self.ctx.params

    def endpoint(self, endpoint: "Endpoint") -> "Endpoint":
        """Where the example connects: the server's (or the pooler's), unless the check puts
        something in between; what it opens for that it closes in release()."""
        return endpoint

    def release(self) -> None:
        """After the case, whatever happened (also when the server died): what the check opened itself."""

    def on_checkpoint(self, name: str) -> None:
        raise RuntimeError(f"scenario {self.name} has no checkpoint {name!r}")

    def finish(self) -> None:
        """After the judgement, before the case database is dropped (the controls' actions are
        undone by the harness itself)."""

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        raise NotImplementedError


REGISTRY: dict[str, type[ScenarioCheck]] = {}


def scenario(name: str) -> Callable[[type[ScenarioCheck]], type[ScenarioCheck]]:
    def register(cls: type[ScenarioCheck]) -> type[ScenarioCheck]:
        cls.name = name
        REGISTRY[name] = cls
        return cls
    return register
