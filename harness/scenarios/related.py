"""Related rows and the page's third story (the ORM that sent 400+ queries where 2 would do):
statements counted per way of loading, from the server's pg_stat_statements at checkpoints."""

from __future__ import annotations

from typing import Any

from harness.scenarios.base import ScenarioCheck, Verdict, scenario
from harness.statements import StatementCount, count, over_limit_problem

# Page: "400+ queries instead of 2, round trips reduced by 99%".
PAGE_CLAIM = "400+ queries instead of 2, round trips reduced by 99%"


@scenario("related_rows")
class RelatedRows(ScenarioCheck):
    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        selector = self.expect["users"]
        expected = self.ctx.spec.fixture.users_with_holdings(selector.get("where", "all"))
        verdict.compare("data.users", expected, data.get("users"))


def between(before: tuple[tuple[str, int], ...], after: tuple[tuple[str, int], ...]) -> list[tuple[str, int]]:
    """The calls of each shape made between two snapshots of pg_stat_statements."""
    earlier = dict(before)
    return [(text, calls - earlier.get(text, 0)) for text, calls in after if calls > earlier.get(text, 0)]


@scenario("story_orm_n_plus_one")
class StoryOrmNPlusOne(ScenarioCheck):
    """Checkpoints: `before_naive`, `before_eager`, `after_eager`; at each the check snapshots the
    role's pg_stat_statements and the server's clock (to cut the statement log for round trips)."""

    MARKS = ("before_naive", "before_eager", "after_eager")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshots: dict[str, tuple[tuple[str, int], ...]] = {}
        self.clocks: dict[str, Any] = {}

    def on_checkpoint(self, name: str) -> None:
        if name not in self.MARKS:
            super().on_checkpoint(name)
        self.snapshots[name] = self.ctx.controls.statement_stats()
        self.clocks[name] = self.ctx.controls.server_clock()

    def way(self, start: str, end: str) -> StatementCount:
        log = [r for r in self.ctx.my_log() if self.clocks[start] <= r.timestamp <= self.clocks[end]]
        return count(between(self.snapshots[start], self.snapshots[end]), log)

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        missing = [m for m in self.MARKS if m not in self.snapshots]
        if not verdict.require(not missing, f"the example never reached the checkpoint(s) {missing}"):
            return
        users = int(data.get("users", -1))
        naive, eager = self.way("before_naive", "before_eager"), self.way("before_eager", "after_eager")
        verdict.compare("data.eager (the eager way's answer) against data.naive", data.get("naive"), data.get("eager"))
        fixture_users = [u for u in data.get("eager") or [] if isinstance(u, dict) and int(u.get("id", 0)) < 1000]
        verdict.compare("the fixture's users in data.eager", self.ctx.spec.fixture.users_with_holdings("active"),
                        fixture_users)
        verdict.require(users >= int(self.ctx.params["extra_users"]),
                        f"data.users is {users}: the question must cover at least {self.ctx.params['extra_users']} users")
        verdict.require(naive.work == users + 1,
                        f"the naive way sent {naive.work} statements for {users} users, expected N+1 = {users + 1}: "
                        "load the related rows lazily, one query per user, as the page's story does")
        problem = over_limit_problem(eager, int(self.expect["eager_max_statements"]), "the eager way")
        if problem is not None:
            verdict.fail(problem)
        naive_ms, eager_ms = float(data.get("naive_ms", 0)), float(data.get("eager_ms", 0))
        verdict.observed["story"] = {
            "page": PAGE_CLAIM, "users": users,
            "naive": {"statements": naive.work, "round_trips": naive.round_trips, "ms": naive_ms,
                      "top": naive.work_shapes[0].text if naive.work_shapes else ""},
            "eager": {"statements": eager.work, "round_trips": eager.round_trips, "ms": eager_ms},
            "round_trips_reduced_percent": round(100 * (1 - eager.round_trips / naive.round_trips), 1)
            if naive.round_trips else None,
            "wall_time_ratio": round(naive_ms / eager_ms, 1) if eager_ms > 0 else None,
        }
