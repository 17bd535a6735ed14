"""Pool behaviour, judged from the server's side: the connection log (exact open/close times per
backend pid) and pg_stat_activity sampled during the case. An example's output cannot show that
its pool is bounded, reuses connections or releases them; the server's record can."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from harness.activity_record import activity_record
from harness.scenarios.base import ScenarioCheck, Verdict, scenario


def peak_open_connections(check: ScenarioCheck, until: datetime | None = None,
                          since: datetime | None = None) -> tuple[int, int]:
    """(most connections open at once, connections opened in all) from the connection log, up to
    `until` and from `since` (server clock) when given."""
    events: list[tuple[Any, int]] = []
    mine = [r for r in check.ctx.my_log() if (until is None or r.timestamp <= until)
            and (since is None or r.timestamp > since)]
    # A backend refused after authentication (53300: too many connections) logs "connection
    # authorized" and then FATAL, but no "disconnection": it never counts as open.
    refused = {r.pid for r in mine if r.severity == "FATAL"}
    for record in mine:
        if record.pid in refused:
            continue
        if record.message.startswith("connection authorized"):
            events.append((record.timestamp, 1))
        elif record.message.startswith("disconnection"):
            events.append((record.timestamp, -1))
    events.sort(key=lambda e: (e[0], e[1]))  # a close and an open in the same ms: close first
    open_now = peak = opened = 0
    for _when, delta in events:
        open_now += delta
        opened += delta > 0
        peak = max(peak, open_now)
    return peak, opened


def burst_ok(verdict: Verdict, what: str, summary: Any, expected: int) -> None:
    if not verdict.require(isinstance(summary, dict), f"{what} must be a burst summary object, got {summary!r}"):
        return
    ok, failed = summary.get("succeeded"), summary.get("failed")
    verdict.require(ok == expected and failed == 0,
                    f"{what}: {ok} of {expected} succeeded, {failed} failed; errors: {summary.get('errors', [])[:5]}")


class PoolCheck(ScenarioCheck):
    @property
    def pool_max(self) -> int:
        return int(self.ctx.params["pool"]["max"])

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        # The example's own connections: its backends straight to the server; through PgBouncer
        # its client connections there (PgBouncer's log), since the server's are PgBouncer's.
        peak, opened = self.ctx.pooler_client_peak() if self.ctx.pooled else peak_open_connections(self)
        verdict.observed["counted_side"] = "pgbouncer clients" if self.ctx.pooled else "server backends"
        verdict.observed.update({"peak_open": peak, "connections_opened": opened,
                                 "peak_backends_sampled": self.ctx.timeline.peak,
                                 "timeline": self.ctx.timeline.compact(),
                                 "activity": activity_record(self.ctx.timeline, self.ctx.my_log(),
                                                             config={"pool max": self.pool_max})})
        self.judge(data, verdict, peak, opened)

    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        raise NotImplementedError


@scenario("pool_bounded")
class PoolBounded(PoolCheck):
    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        params = self.ctx.params
        burst_ok(verdict, "the burst", data, int(params["concurrency"]))
        verdict.require(peak <= self.pool_max,
                        f"the pool opened {peak} connections at once; its max is {self.pool_max} (connection log)")
        active_peak = max((s.states.get("active", 0) for s in self.ctx.timeline.samples), default=0)
        verdict.observed["peak_active_sampled"] = active_peak
        verdict.require(active_peak >= int(self.expect["min_peak_backends"]),
                        f"at most {active_peak} queries ran at once: the burst did not run concurrently")
        rounds = int(params["concurrency"]) / self.pool_max
        budget = rounds * float(params["sleep_seconds"]) * float(self.expect["wall_factor"]) + float(self.expect["wall_slack_seconds"])
        elapsed = data.get("elapsed_ms")
        verdict.observed["elapsed_ms"] = elapsed
        if verdict.require(isinstance(elapsed, (int, float)), "data.elapsed_ms is missing"):
            verdict.require(elapsed / 1000 <= budget,
                            f"the burst took {elapsed / 1000:.2f} s; {self.pool_max}-way concurrency allows {budget:.2f} s "
                            "(a timing bound: the sampled concurrency above is the event; rerun alone if the machine "
                            "was loaded)")


@scenario("pool_reuse")
class PoolReuse(PoolCheck):
    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        pids = data.get("pids")
        if not verdict.require(isinstance(pids, list) and len(pids) == int(self.ctx.params["queries"]),
                               f"data.pids must list {self.ctx.params['queries']} backend pids"):
            return
        distinct = sorted(set(pids))
        verdict.observed["distinct_pids"] = len(distinct)
        verdict.require(len(distinct) <= self.pool_max,
                        f"{len(distinct)} distinct backends served {len(pids)} sequential queries; a pool of max "
                        f"{self.pool_max} reuses its connections")
        verdict.require(opened <= self.pool_max,
                        f"the server logged {opened} connections for {len(pids)} sequential queries (max {self.pool_max})")
        verdict.require(set(distinct) <= self.ctx.served_by_server(), "data.pids names backends the server never saw for this case")


# A backend a client left inside a transaction: it was not committed or rolled back.
STUCK_STATES = ("idle in transaction", "idle in transaction (aborted)")


class ClosingPool(PoolCheck):
    """The example closes its pool, then prints checkpoint `after_close`: every backend must be
    gone within closed_within_seconds."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.close_seconds: float | None = None
        self.left_after_close = 0

    def on_checkpoint(self, name: str) -> None:
        if name == "after_close":
            self.watch_close()
        else:
            super().on_checkpoint(name)

    def watch_close(self) -> None:
        within = float(self.expect["closed_within_seconds"])
        reached, seconds, left = self.ctx.controls.wait_connections_gone(within + 1.0)
        self.close_seconds = seconds if reached else None
        self.left_after_close = left

    def judge_close(self, verdict: Verdict) -> None:
        within = float(self.expect["closed_within_seconds"])
        verdict.observed["close_seconds"] = self.close_seconds
        if self.close_seconds is None:
            verdict.fail(f"{self.left_after_close} backend(s) still open {within + 1:.0f} s after the pool was closed "
                         "(or the example never reached checkpoint after_close)")
        else:
            verdict.require(self.close_seconds <= within,
                            f"the pool's connections took {self.close_seconds:.2f} s to close; allowed {within:.1f} s")


@scenario("pool_release")
class PoolRelease(ClosingPool):
    checkpoints = ("after_work", "after_close")
    stuck_hints = {"after_close": "a client that was never released keeps the pool's close (pool.end()) waiting"}

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.after_work: list[tuple[int, str]] = []

    def on_checkpoint(self, name: str) -> None:
        if name == "after_work":
            self.after_work = self.ctx.controls.backends()
        else:
            super().on_checkpoint(name)

    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        burst_ok(verdict, "the work", data, int(self.ctx.params["concurrency"]))
        states = [state for _pid, state in self.after_work]
        verdict.observed["backends_after_work"] = states
        stuck = sum(state in STUCK_STATES for state in states)
        verdict.require(stuck == 0, f"{stuck} backend(s) were 'idle in transaction' after the work: a connection was "
                                    "not released (commit/rollback missing)")
        verdict.require(peak <= self.pool_max, f"the pool opened {peak} connections at once; its max is {self.pool_max}")
        self.judge_close(verdict)


@scenario("pool_acquire_timeout")
class PoolAcquireTimeout(PoolCheck):
    checkpoints = ()
    timeout_hint = ("an acquire never returned: the pool has no acquire timeout (set it from "
                    "params.pool.acquire_timeout_ms) or does not honour it")
    # Known reports of this hang, per driver (driver.name in example.yaml): cited only for that driver.
    citations = {"pg": "node-postgres #3197 describes such a hang: connectionTimeoutMillis not honoured while "
                       "the pool's first connection is being made"}

    def citation_applies(self) -> bool:
        """#3197 is a connect that ignores the timeout: it fits only when the pool's first connection
        never logged in. A second acquire waiting for the held one is the example's own timeout."""
        return not self.ctx.reached_server()

    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        error = data.get("error") or {}
        elapsed = data.get("elapsed_ms")
        verdict.observed.update({"elapsed_ms": elapsed, "error_type": error.get("type"), "error": error.get("message")})
        timed = isinstance(elapsed, (int, float))
        verdict.require(timed, "data.elapsed_ms is missing")
        if not error or error.get("kind") in (None, "none"):
            took = f" after {elapsed:.0f} ms" if timed else ""
            verdict.fail(f"the second acquire succeeded{took} while the only connection was held: the pool lent "
                         f"more than its max of {self.pool_max} (the server saw {peak} open at once)")
        else:
            verdict.require(error.get("kind") == self.expect["error_kind"],
                            f"the second acquire ended with {error.get('type') or 'an error'} "
                            f"({error.get('message', '')!s:.120}); expected the pool's own timeout error")
            if timed:
                low, high = self.expect["min_elapsed_ms"], self.expect["max_elapsed_ms"]
                verdict.require(low * 0.95 <= elapsed <= high,
                                f"the acquire failed after {elapsed:.0f} ms; the pool's timeout is "
                                f"{self.ctx.params['pool']['acquire_timeout_ms']} ms (allowed {low}-{high} ms)")
        verdict.require(peak <= 1, f"the pool of max 1 opened {peak} connections at once")


@scenario("pool_idle_timeout")
class PoolIdleTimeout(PoolCheck):
    WATCH_LIMIT_SECONDS = 30.0
    checkpoints = ("after_burst",)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.open_after_burst = 0
        self.idle_close_seconds: float | None = None
        self.left = 0

    @property
    def min_idle(self) -> int:
        return int(self.ctx.params["pool"].get("min_idle", 0))

    def on_checkpoint(self, name: str) -> None:
        if name != "after_burst":
            super().on_checkpoint(name)
        # Through PgBouncer the pool's idle connections are its clients there; PgBouncer keeps
        # its own server connections by design (server_idle_timeout), so they do not count.
        controls = self.ctx.controls
        self.open_after_burst = len(controls.pooler_clients() if self.ctx.pooled else controls.backends())
        reached, seconds, left = controls.wait_connections_gone(self.WATCH_LIMIT_SECONDS, floor=self.min_idle)
        self.idle_close_seconds = seconds if reached else None
        self.left = left

    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        burst_ok(verdict, "the burst", data, int(self.ctx.params["burst"]))
        used = data.get("idle_timeout_ms")
        verdict.observed.update({"open_after_burst": self.open_after_burst, "idle_close_seconds": self.idle_close_seconds,
                                 "idle_timeout_ms": used})
        verdict.require(self.open_after_burst > self.min_idle,
                        f"only {self.open_after_burst} connection(s) open after the burst: nothing to time out")
        if not verdict.require(isinstance(used, (int, float)), "data.idle_timeout_ms (the value used) is missing"):
            return
        allowed = used / 1000 + float(self.expect["slack_seconds"])
        if self.idle_close_seconds is None:
            verdict.fail(f"{self.left} idle connection(s) still open {self.WATCH_LIMIT_SECONDS:.0f} s after the burst "
                         f"(idle timeout {used} ms, minimum {self.min_idle})")
        else:
            verdict.require(self.idle_close_seconds <= allowed,
                            f"idle connections closed after {self.idle_close_seconds:.1f} s; "
                            f"idle timeout {used} ms + slack allows {allowed:.1f} s")


class Recovery(PoolCheck):
    checkpoints = ("between_bursts",)
    stuck_hints = {"between_bursts": "the first burst never finished",
                   "result": "the second burst never finished: the pool waits on connections that died in the fault"}

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.killed = 0
        self.pids_before: set[int] = set()

    def on_checkpoint(self, name: str) -> None:
        if name != "between_bursts":
            super().on_checkpoint(name)
        self.pids_before = {pid for pid, _ in self.ctx.controls.backends()}
        self.killed = self.fault()
        time.sleep(float(self.expect.get("settle_seconds", 1.0)))

    def fault(self) -> int:
        raise NotImplementedError

    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        expected = int(self.ctx.params["concurrency"])
        burst_ok(verdict, "the first burst", data.get("first"), expected)
        burst_ok(verdict, "the second burst (after the fault)", data.get("second"), expected)
        verdict.observed.update({"backends_killed": self.killed})
        verdict.require(self.killed > 0, "the pool held no connection at the checkpoint: the fault hit nothing")
        verdict.require(peak <= self.pool_max, f"the pool opened {peak} connections at once; its max is {self.pool_max}")


@scenario("pool_recovery_terminate")
class RecoveryTerminate(Recovery):
    def fault(self) -> int:
        killed = self.ctx.controls.terminate_backends()
        self.ctx.controls.wait_backends_gone(5.0)
        return killed


@scenario("pool_recovery_restart")
class RecoveryRestart(Recovery):
    exclusive = True

    def fault(self) -> int:
        count = len(self.pids_before)
        self.ctx.controls.restart_server()
        return count


@scenario("no_pool_exhaustion")
class NoPoolExhaustion(PoolCheck):
    """The pooled half runs first and ends at checkpoint `after_pooled` (its pool closed); the
    connection log up to that moment (by the server's clock) must never show more than the
    pool's max open at once."""

    checkpoints = ("after_pooled",)
    not_behind_pooler = ("behind PgBouncer the connection-per-request half queues at the pooler instead of being "
                         "refused by the server (53300): that is the page's story 1 (docs/pgbouncer.md)")

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.pooled_until: datetime | None = None

    def on_checkpoint(self, name: str) -> None:
        if name != "after_pooled":
            super().on_checkpoint(name)
        self.pooled_until = self.ctx.controls.server_clock()

    def prepare(self) -> None:
        self.ctx.controls.set_connection_limit(int(self.ctx.params["connection_limit"]))

    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        requests = int(self.ctx.params["requests"])
        burst_ok(verdict, "pooled requests", data.get("pooled"), requests)
        unpooled = data.get("unpooled") or {}
        errors = [str(e) for e in unpooled.get("errors", [])]
        code = self.expect["unpooled_sqlstate"]
        verdict.observed.update({"pooled_succeeded": (data.get("pooled") or {}).get("succeeded"),
                                 "unpooled_succeeded": unpooled.get("succeeded"),
                                 "unpooled_failed": unpooled.get("failed"),
                                 "unpooled_errors": sorted(set(errors))})
        if not verdict.require(self.pooled_until is not None,
                               "the example never reached checkpoint after_pooled (print it once the pooled half's "
                               "pool is closed, before the connection-per-request half)"):
            return
        refused = [r for r in self.ctx.my_log() if r.state_code == code]
        verdict.observed["server_refusals_53300"] = len(refused)
        if unpooled.get("failed") or not self.overlap_was_timing(requests, refused, verdict):
            verdict.require(bool(unpooled.get("failed")),
                            f"{requests} connections at once under a limit of {self.ctx.params['connection_limit']} "
                            "all succeeded: the connection-per-request half did not exhaust the server")
            verdict.require(bool(errors) and all(e == code for e in errors),
                            f"the connection-per-request failures must be SQLSTATE {code}; got {sorted(set(errors))[:5]}")
            verdict.require(bool(refused), f"the server logged no refusal with SQLSTATE {code}")
        pooled_peak, _ = peak_open_connections(self, until=self.pooled_until)
        verdict.observed["pooled_peak_open"] = pooled_peak
        verdict.require(pooled_peak <= self.pool_max,
                        f"the pooled half opened {pooled_peak} connections at once; the pool's max is "
                        f"{self.pool_max} (connection log up to checkpoint after_pooled)")

    def overlap_was_timing(self, requests: int, refused: list[Any], verdict: Verdict) -> bool:
        """Whether the server refuses depends on timing: only if more than the limit are open at
        once, which a loaded machine (slow connects, each request over in sleep_seconds) may never
        reach. What the spec can promise is one connection per request. True when every request
        had its own connection and they never overlapped up to the limit: then the verdict is
        the connection count's, and says that timing left the limit unreached."""
        limit = int(self.ctx.params["connection_limit"])
        peak, opened = peak_open_connections(self, since=self.pooled_until)
        verdict.observed.update(unpooled_peak_open=peak, unpooled_connections=opened)
        if refused or opened < requests or peak >= limit:
            return False
        verdict.observed["timing_decided"] = (
            f"the {requests} connection-per-request requests each opened a connection ({opened}), but at most {peak} "
            f"were open at once, under the limit of {limit}: the machine was too slow for them to overlap, so no "
            "refusal could happen; judged by the connection count, not by the refusals")
        return True
