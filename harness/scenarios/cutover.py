"""The page's second PgBouncer story, "PAUSE, switch the backend to a new PostgreSQL host, RESUME:
3 seconds, no dropped transactions", reproduced. The example runs a steady stream of short write
transactions (each inserts a ledger row with an id it made) and reports every id whose COMMIT
returned; it knows nothing of the cutover. At its checkpoint `streaming` the harness PAUSEs the
case database at PgBouncer, points it at the run's second server (same fixture, same role and
SCRAM secret), RELOADs and RESUMEs. Judged on both servers' ledgers: every acknowledged id on
exactly one of them, the stream's later writes on the new one, the old one without PgBouncer's
connections. The pause window and the longest transaction are measured, shown beside the page's
"3 seconds", not asserted. The limit case holds the pause longer than query_wait_timeout."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from harness.activity_record import activity_record
from harness.pooler import Topology, topology as as_topology
from harness.scenarios.base import ScenarioCheck, Verdict, scenario
from harness.stats import percentile

LEDGER_SQL = ("CREATE TABLE ledger (id bigint PRIMARY KEY, writer integer NOT NULL, "
              "at timestamptz NOT NULL DEFAULT clock_timestamp()); GRANT ALL ON ledger TO PUBLIC")
# The example's ids: writer * ID_BLOCK + its own sequence number (1, 2, ...).
ID_BLOCK = 1_000_000
CUTOVER = "story_pause_resume_cutover"   # its spec holds the page's claim, the limit's too
SESSION_REASON = ("in session pooling a server connection is released only when its client disconnects, so "
                  "PAUSE does not return while the example's pool keeps its connections open: the technique "
                  "needs transaction pooling")


def ids_of(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value
    return None


def writer_order_problems(old: set[int], new: set[int]) -> list[str]:
    """Each writer's ids go up: every id it wrote to the old server must come before every id it
    wrote to the new one (a write after RESUME that landed on the old server breaks that)."""
    problems = []
    for writer in sorted({i // ID_BLOCK for i in old | new}):
        on_old = [i for i in old if i // ID_BLOCK == writer]
        on_new = [i for i in new if i // ID_BLOCK == writer]
        if on_old and on_new and max(on_old) > min(on_new):
            problems.append(f"writer {writer}: id {max(on_old)} is on the old server, after id {min(on_new)} "
                            "on the new one (a write after RESUME landed on the old server)")
        if not on_new:
            problems.append(f"writer {writer}: none of its writes landed on the new server")
    return problems


def latency_figures(value: Any) -> dict[str, Any] | None:
    """The stream's transaction latencies ([id, ms] each): the longest, the longest without each
    writer's first transaction (which opens a connection, and in a JVM runs cold), the median."""
    if not isinstance(value, list) or not all(isinstance(v, list) and len(v) == 2 for v in value) or not value:
        return None
    all_ms = [float(ms) for _id, ms in value]
    warm = [float(ms) for row_id, ms in value if int(row_id) % ID_BLOCK != 1] or all_ms
    return {"max_latency_ms": round(max(all_ms), 1), "max_latency_warm_ms": round(max(warm), 1),
            "p50_latency_ms": round(percentile(all_ms, 50), 1)}


def error_summary(failed: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(f"{f.get('sqlstate') or '-'}: {' '.join(str(f.get('message', '')).split())[:120]}"
                        for f in failed).most_common(5))


@scenario(CUTOVER)
class StoryPauseResumeCutover(ScenarioCheck):
    """Checkpoint `streaming`: the example's writers are running; the cutover happens there."""
    not_in_session_pooling = SESSION_REASON

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.figures: dict[str, Any] = {}
        self.pause_window: dict[str, tuple[Any, Any]] = {}   # the server's clock around PAUSE..RESUME

    @classmethod
    def not_behind(cls, where: Topology | str) -> str | None:
        if not as_topology(where).pooled:
            return "n/a straight to the server: the story needs PgBouncer (PAUSE, RESUME and a database entry to repoint)"
        return super().not_behind(where)

    def prepare(self) -> None:
        controls = self.ctx.controls
        controls.cutover_target()   # the second server, started on first use: before the stream
        controls.query(LEDGER_SQL)
        controls.query_target(LEDGER_SQL)

    def on_checkpoint(self, name: str) -> None:
        if name != "streaming":
            super().on_checkpoint(name)
        controls = self.ctx.controls
        hold = float(self.ctx.params.get("hold_seconds", 0))
        paused_at = controls.server_clock()   # before the clock the pause window is timed by
        started = time.monotonic()
        self.figures["pause_returned_ms"] = round(1000 * controls.pooler_pause(), 1)
        controls.pooler_route_to_target(True)
        time.sleep(max(0.0, hold - (time.monotonic() - started)))   # the limit case: a long switch
        controls.pooler_resume()
        self.figures["pause_window_ms"] = round(1000 * (time.monotonic() - started), 1)
        self.pause_window["PAUSE to RESUME"] = (paused_at, controls.server_clock())

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        acked, failed, latency = ids_of(data.get("acknowledged")), data.get("failed"), latency_figures(data.get("latency_ms"))
        if not verdict.require(acked is not None and isinstance(failed, list) and latency is not None,
                               "data.acknowledged must list the ids (integers) whose COMMIT returned, data.failed "
                               "the transactions that failed, data.latency_ms [id, ms] of each transaction"):
            return
        assert acked is not None and latency is not None
        failed_ids = {f.get("id") for f in failed if isinstance(f, dict)}
        old = {int(r[0]) for r in self.ctx.query_case_db("SELECT id FROM ledger")}
        new = {int(r[0]) for r in self.ctx.controls.query_target("SELECT id FROM ledger")}
        lost, twice = sorted(set(acked) - old - new), sorted(old & new)
        repeated = sorted(i for i, n in Counter(acked).items() if n > 1)
        unreported = sorted((old | new) - set(acked) - failed_ids)
        self.figures.update({**self.page_claim_figures(CUTOVER), "writers": len({i // ID_BLOCK for i in acked}),
                             "acknowledged": len(acked), "on_old_server": len(old), "on_new_server": len(new),
                             "lost": len(lost), "twice": len(twice), "failed": len(failed),
                             "errors": error_summary(failed), **latency})
        verdict.observed["cutover"] = self.figures
        # The old server's backends (PgBouncer's): the new server's are not sampled.
        verdict.observed["activity"] = activity_record(self.ctx.timeline, self.ctx.my_log(), self.pause_window,
                                                       {"hold": f"{float(self.ctx.params.get('hold_seconds', 0)):g} s"})
        verdict.require(not lost, f"{len(lost)} acknowledged ids are on neither server (lost), e.g. {lost[:5]}")
        verdict.require(not twice, f"{len(twice)} ids are on both servers, e.g. {twice[:5]}")
        verdict.require(not repeated, f"data.acknowledged names ids more than once, e.g. {repeated[:5]}")
        verdict.require(not unreported, f"{len(unreported)} ledger rows were committed but never reported, "
                                        f"e.g. {unreported[:5]}: the example's report of its writes is incomplete")
        verdict.require(bool(old), "no write reached the old server before the cutover: the stream started late")
        for problem in writer_order_problems(old, new):
            verdict.fail(problem)
        reached, seconds, left = self.ctx.controls.wait_backends_gone(float(self.expect["old_server_gone_within_seconds"]))
        self.figures["old_server_connections_after"] = left
        verdict.require(reached, f"{left} connections of PgBouncer to the old server were still open "
                                 f"{seconds:.1f} s after the run (pg_stat_activity)")
        self.judge_errors(failed, failed_ids & (old | new), verdict)

    def judge_errors(self, failed: list[Any], committed_anyway: set[Any], verdict: Verdict) -> None:
        verdict.require(not failed, f"{len(failed)} transactions failed, visible to the client: "
                                    f"{error_summary(failed)}")


@scenario("story_pause_resume_limit")
class StoryPauseResumeLimit(StoryPauseResumeCutover):
    """The same stream and cutover, with a switch that takes longer than query_wait_timeout
    (set low for this case, in PgBouncer's ini: a global setting, so the case runs alone)."""

    exclusive = True

    def prepare(self) -> None:
        super().prepare()
        self.ctx.controls.pooler_configure("query_wait_timeout", str(self.ctx.params["query_wait_timeout"]))
        self.figures["query_wait_timeout_s"] = self.ctx.controls.pooler_setting("query_wait_timeout")

    def judge_errors(self, failed: list[Any], committed_anyway: set[Any], verdict: Verdict) -> None:
        cut = [f for f in failed if isinstance(f, dict) and "query_wait_timeout" in str(f.get("message", ""))]
        self.figures["cut_off"] = len(cut)
        verdict.require(bool(cut), f"no client reported PgBouncer's query_wait_timeout after a pause of "
                                   f"{self.figures.get('pause_window_ms')} ms with query_wait_timeout "
                                   f"{self.ctx.params['query_wait_timeout']} s: the waiting clients must be cut off "
                                   f"(errors reported: {error_summary(failed) or 'none'})")
        # A pause cuts clients off (SQLSTATE class 08, or a connection the driver saw close without
        # one); any other error (a statement's) is not the pause's doing.
        other = [f for f in failed if isinstance(f, dict) and not str(f.get("sqlstate") or "08").startswith("08")]
        verdict.require(not other, f"{len(other)} transactions failed with errors other than a cut-off connection: "
                                   f"{error_summary(other)}")
        verdict.require(not committed_anyway, f"transactions the client saw fail were committed: {sorted(committed_anyway)[:5]}")
