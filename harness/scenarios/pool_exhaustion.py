"""The page's first story, "pool exhaustion, fixed by a central pooler", measured: S services (S
independent pools in one process) under the same steady load with long queries, against a
connection budget of half their pools' sum (the role's connection limit). One scenario, two
topologies the report pairs: straight to the server (Run 1, pools of 20) and through PgBouncer in
transaction mode (Run 2, pools cut to 5, PgBouncer's server pool within the budget).

The load reproduces the page's mechanism at this machine's scale: the queries do real work on the
server (a sum over generate_series), so the backends the pools hold compete for its cores, and a
request the server refuses is retried as a service would (the driver's own retry, else the spec's
bounded retry with backoff), its whole time counted in its latency.

Asserted, because it is stable: straight to the server, the server refused connections (53300) and
its backends peaked at the budget; through PgBouncer, no request was refused or failed and the
server's backends never went above the budget. In both, the example's own count is held against
the server's (every request it says was served ran its query there). Latency and queueing are
measured and reported beside the page's "2 s → 50 ms", never asserted."""

from __future__ import annotations

from typing import Any

from harness.activity_record import activity_record
from harness.pooler import Topology
from harness.scenarios.base import ScenarioCheck, Verdict, scenario
from harness.scenarios.pools import peak_open_connections
from harness.stats import percentile

REFUSED = "53300"   # too_many_connections: "too many connections for role ..."
SESSION_REASON = ("the story's fix is transaction pooling: in session pooling every client connection holds a "
                  "server connection, so PgBouncer cannot share the budget between the services")


def budget_of(params: dict[str, Any]) -> int:
    """Half (budget_share) the sum of the services' pools straight to the server."""
    return int(int(params["services"]) * int(params["pool_max"]["direct"]) * float(params["budget_share"]))


def pool_max_for(params: dict[str, Any], topology: Topology) -> int:
    return int(params["pool_max"]["pgbouncer" if topology.pooled else "direct"])


def load_figures(services: list[dict[str, Any]], queued_above_ms: float) -> dict[str, Any]:
    """The run's requests across every service: how they ended, their latency and pool wait."""
    latency = [float(v) for s in services for v in s.get("latency_ms", [])]
    wait = [float(v) for s in services for v in s.get("wait_ms", [])]
    figures: dict[str, Any] = {
        "succeeded": sum(int(s.get("succeeded", 0)) for s in services),
        "refused": sum(int(s.get("refused", 0)) for s in services),
        "failed": sum(int(s.get("failed", 0)) for s in services),
        "retries": sum(int(s.get("retries", 0)) for s in services),
        "queued": sum(1 for w in wait if w > queued_above_ms),
        "errors": sorted({str(e) for s in services for e in s.get("errors", [])})[:5],
    }
    for name, values in (("latency", latency), ("wait", wait)):
        figures.update({f"{name}_p50_ms": round(percentile(values, 50), 1) if values else None,
                        f"{name}_p95_ms": round(percentile(values, 95), 1) if values else None,
                        f"{name}_max_ms": round(max(values), 1) if values else None})
    return figures


WORK = "generate_series"   # the requests' statement: SELECT sum(i) FROM generate_series(1, <rows>) AS i


def served_queries(check: ScenarioCheck) -> tuple[int, int]:
    """The requests' queries the server ran to the end (pg_stat_statements: the work's shape), and
    how many pg_sleep calls it ran (the load before the work was real: an example not updated)."""
    shapes = check.ctx.statements().shapes
    return (sum(shape.calls for shape in shapes if WORK in shape.text),
            sum(shape.calls for shape in shapes if "pg_sleep" in shape.text))


@scenario("story_pool_exhaustion")
class StoryPoolExhaustion(ScenarioCheck):
    """The example gets params.services, params.pool.max (this topology's), the load (long_rows,
    short_rows: the work of a long and a short query) and params.retry; it reports per service:
    succeeded, refused (SQLSTATE 53300 at the last attempt), failed (anything else), retries
    (refused attempts it retried), errors, and per served request its pool wait and latency from
    its first attempt (wait_ms, latency_ms)."""

    not_in_session_pooling = SESSION_REASON

    @property
    def budget(self) -> int:
        return budget_of(self.ctx.params)

    @property
    def pool_max(self) -> int:
        return pool_max_for(self.ctx.params, self.ctx.topology)

    def prepare(self) -> None:
        self.ctx.controls.set_connection_limit(self.budget)
        if self.ctx.pooled:
            self.ctx.controls.set_pooler_pool_size(self.budget)

    def run_params(self) -> dict[str, Any]:
        p = self.ctx.params
        return {"services": int(p["services"]),
                "pool": {"max": self.pool_max, "acquire_timeout_ms": int(p["acquire_timeout_ms"])},
                "retry": {key: int(p["retry"][key]) for key in ("attempts", "backoff_ms", "backoff_max_ms")},
                **{key: p[key] for key in ("waves", "wave_interval_ms", "wave_size", "long_per_wave",
                                           "long_rows", "short_rows", "long_seconds", "short_seconds")}}

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        p = self.ctx.params
        services = [s for s in data.get("services") or [] if isinstance(s, dict)]
        if not verdict.require(len(services) == int(p["services"]),
                               f"data.services has {len(services)} service(s), expected {p['services']} "
                               "(one result per service, each with its own pool)"):
            return
        per_service = int(p["waves"]) * int(p["wave_size"])
        for i, s in enumerate(services):
            ended = sum(int(s.get(k, 0)) for k in ("succeeded", "refused", "failed"))
            verdict.require(ended == per_service, f"service {i}: {ended} requests accounted for (succeeded + refused "
                                                  f"+ failed), it was sent {per_service}")
            verdict.require(len(s.get("latency_ms", [])) == int(s.get("succeeded", 0)) == len(s.get("wait_ms", [])),
                            f"service {i}: one latency_ms and one wait_ms per succeeded request")
        figures = load_figures(services, float(p["queued_above_ms"]))
        served, slept = served_queries(self)
        if not verdict.require(slept == 0,
                               f"the server ran {slept} pg_sleep call(s): the story's queries do real work on the "
                               "server, SELECT sum(i) FROM generate_series(1, <rows>) AS i with params.long_rows / "
                               "params.short_rows (docs/adding-a-driver.md)"):
            return
        verdict.require(served == figures["succeeded"],
                        f"the example reports {figures['succeeded']} requests served, the server ran {served} of "
                        "their queries (pg_stat_statements): a refused or failed request must be counted as such")
        refusals = [r for r in self.ctx.my_log() if r.state_code == REFUSED]
        peak_backends, opened = peak_open_connections(self)
        figures.update({"topology": self.ctx.topology.label, "services": int(p["services"]), "pool_max": self.pool_max,
                        "budget": self.budget, "requests": per_service * int(p["services"]),
                        "server_refusals": len(refusals), "peak_backends": peak_backends,
                        "backends_opened": opened, "peak_backends_sampled": self.ctx.timeline.peak,
                        **self.page_claim_figures()})
        if self.ctx.pooled:
            self.judge_pooled(figures, verdict)
        else:
            self.judge_direct(figures, verdict)
        verdict.observed["pool_exhaustion"] = figures
        verdict.observed["timeline"] = self.ctx.timeline.compact()
        verdict.observed["activity"] = activity_record(
            self.ctx.timeline, self.ctx.my_log(),
            config={"services": figures["services"], "pool max per service": self.pool_max,
                    "connection budget": self.budget})

    def judge_direct(self, figures: dict[str, Any], verdict: Verdict) -> None:
        budget = self.budget
        if (not figures["server_refusals"] and self.pool_max < figures["peak_backends"] < budget
                and not figures["failed"] and not figures["refused"]):
            # Refusals need the pools to outgrow the budget at once, which timing decides: on a
            # loaded machine the waves may not collide. What the spec can promise is that the
            # services' pools are independent (more backends than one pool's max) and all was served.
            figures["timing_decided"] = (
                f"the server refused no connection: the backends peaked at {figures['peak_backends']}, above one "
                f"pool's {self.pool_max} (independent pools) but under the budget of {budget}, so the waves never "
                "collided enough on this machine to be refused; judged by the pools' independence, not the refusals")
            verdict.observed["timing_decided"] = figures["timing_decided"]
            return
        verdict.require(figures["server_refusals"] > 0,
                        f"the server refused no connection ({REFUSED}) under a budget of {budget}: the services' "
                        f"pools never outgrew it ({figures['services']} independent pools of {self.pool_max} expected)")
        verdict.require(figures["peak_backends"] == budget,
                        f"the server's backends peaked at {figures['peak_backends']} (connection log), not at the "
                        f"budget of {budget}: the pools did not exhaust it")

    def judge_pooled(self, figures: dict[str, Any], verdict: Verdict) -> None:
        budget, pools = self.budget, figures["services"]
        verdict.require(figures["refused"] == 0 and figures["failed"] == 0,
                        f"through PgBouncer {figures['refused']} request(s) were refused and {figures['failed']} "
                        f"failed (none may be): {figures['errors']}")
        verdict.require(figures["server_refusals"] == 0,
                        f"the server refused {figures['server_refusals']} connection(s) ({REFUSED}) through PgBouncer")
        verdict.require(max(figures["peak_backends"], figures["peak_backends_sampled"]) <= budget,
                        f"the server had {max(figures['peak_backends'], figures['peak_backends_sampled'])} backends "
                        f"at once through PgBouncer (connection log / pg_stat_activity), above the budget of {budget}")
        clients, logins = self.ctx.pooler_client_peak()
        figures.update({"pooler_client_peak": clients, "pooler_logins": logins})
        verdict.require(self.pool_max < clients <= pools * self.pool_max,
                        f"the example had {clients} client connection(s) open at once at PgBouncer: {pools} "
                        f"independent pools of {self.pool_max} have more than one pool's {self.pool_max} and at most "
                        f"{pools * self.pool_max}")
