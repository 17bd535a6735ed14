"""The page's pool-size rule, "(2 × CPU cores) + disk spindles, benchmark from there", measured:
the same burst of requests through pools of several sizes. Judged only on what is stable on a
small shared machine: a pool never has more connections open than its size (connection log,
between the example's checkpoints), and the wait for a pool connection is measured and longer at
size 1 than at the formula's size. Throughput and latency are reported, the knee shown, not asserted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.activity_record import activity_record
from harness.scenarios.base import ScenarioCheck, Verdict, scenario
from harness.stats import percentile


def server_cores(check: ScenarioCheck) -> int:
    """The server's CPU count, as the server sees its machine (also inside a container)."""
    text = check.ctx.query_case_db("SELECT pg_read_file('/proc/cpuinfo')")[0][0]
    return max(1, sum(1 for line in str(text).splitlines() if line.startswith("processor")))


def pool_sizes(cores: int, params: dict[str, Any]) -> tuple[int, list[int]]:
    """(the formula's size, every size to run, smallest first)."""
    formula = 2 * cores + int(params["spindles"])
    far = min(int(params["far_above_cores"]) * cores, int(params["requests"]))
    return formula, sorted({1, formula, int(params["formula_multiple"]) * formula, far})


def peak_in_window(check: ScenarioCheck, since: datetime, until: datetime) -> int:
    """Most connections of the role open at once between two server-clock marks (connection log).
    Only sessions that began in the window count, so the last size's late disconnections do not."""
    mine = [r for r in check.ctx.my_log() if since <= r.timestamp <= until]
    opened = {r.pid for r in mine if r.message.startswith("connection authorized")}
    events = sorted(((r.timestamp, 1 if r.message.startswith("connection authorized") else -1) for r in mine
                     if r.pid in opened and r.message.startswith(("connection authorized", "disconnection"))),
                    key=lambda e: (e[0], e[1]))
    open_now = peak = 0
    for _when, delta in events:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def size_figures(run: dict[str, Any]) -> dict[str, Any]:
    """Throughput, latency and pool wait of one size's burst from the example's raw timings."""
    latency, wait = [float(v) for v in run["latency_ms"]], [float(v) for v in run["wait_ms"]]
    elapsed = float(run["elapsed_ms"])
    return {"size": int(run["size"]), "requests": len(latency), "failed": int(run.get("failed", 0)),
            "throughput_per_s": round(len(latency) / (elapsed / 1000), 1) if elapsed > 0 else None,
            "latency_p50_ms": round(percentile(latency, 50), 1), "latency_p95_ms": round(percentile(latency, 95), 1),
            "wait_mean_ms": round(sum(wait) / len(wait), 1), "wait_p95_ms": round(percentile(wait, 95), 1)}


def claim_verdict(figures: list[dict[str, Any]], formula: int) -> str:
    """One line on the page's claim from the measured throughput."""
    best = max(figures, key=lambda f: f["throughput_per_s"] or 0)
    at_formula = next(f for f in figures if f["size"] == formula)
    share = round(100 * (at_formula["throughput_per_s"] or 0) / (best["throughput_per_s"] or 1))
    return (f"throughput at the formula's size ({formula}) is {share}% of the best size here "
            f"({best['size']}: {best['throughput_per_s']}/s)")


@scenario("story_pool_sizing")
class StoryPoolSizing(ScenarioCheck):
    """Checkpoints `before_<size>` and `after_<size>` around each size's burst; the example gets
    the sizes to run as params.sizes."""

    not_behind_pooler = ("the rule sizes the sample's own pool against the server's cores; behind PgBouncer the "
                         "connections that reach the server are PgBouncer's pool, not the sample's")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cores = 0
        self.formula = 0
        self.sizes: list[int] = []
        self.marks: dict[str, datetime] = {}

    def prepare(self) -> None:
        self.cores = server_cores(self)
        self.formula, self.sizes = pool_sizes(self.cores, self.ctx.params)
        # The largest pool is meant to be far above the cores, maybe above the role's fair share:
        # the case gets room for it (and the example's own spare connection or two).
        needed = max(self.sizes) + 4
        if needed > self.ctx.spec.fixture.limits.connections_per_role:
            self.ctx.controls.set_connection_limit(needed)

    def run_params(self) -> dict[str, Any]:
        return {**self.ctx.params, "sizes": self.sizes}

    def on_checkpoint(self, name: str) -> None:
        if not name.startswith(("before_", "after_")):
            super().on_checkpoint(name)
        self.marks[name] = self.ctx.controls.server_clock()

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        runs = {int(r["size"]): r for r in data.get("sizes", []) if isinstance(r, dict) and "size" in r}
        if not verdict.require(sorted(runs) == self.sizes,
                               f"data.sizes has results for pool sizes {sorted(runs)}, expected {self.sizes}"):
            return
        figures = []
        for size in self.sizes:
            row = size_figures(runs[size])
            since, until = self.marks.get(f"before_{size}"), self.marks.get(f"after_{size}")
            if not verdict.require(since is not None and until is not None,
                                   f"the example never reached the checkpoints before_{size} and after_{size}"):
                return
            row["peak_backends"] = peak_in_window(self, since, until)
            figures.append(row)
            verdict.require(row["failed"] == 0 and row["requests"] == int(self.ctx.params["requests"]),
                            f"pool size {size}: {row['requests']} requests timed, {row['failed']} failed")
            verdict.require(row["peak_backends"] <= size,
                            f"the pool of size {size} had {row['peak_backends']} connections open at once "
                            "(connection log): a pool must never exceed its size")
        waits = {f["size"]: f["wait_mean_ms"] for f in figures}
        verdict.require(max(waits.values()) > 0, "no request waited for a pool connection: pool wait is not measured")
        # Against the formula's size, not every size: a pool far above the cores spends its wait
        # opening connections (HikariCP opens them one at a time), which a loaded machine makes
        # slow; CI saw size 16 wait longer than size 1 on a machine with a quarter of its CPU stolen.
        verdict.require(waits[1] > waits[self.formula],
                        f"the pool of size 1 did not wait longer for a connection than the formula's size "
                        f"{self.formula} (mean waits by size: {waits})")
        verdict.observed["pool_sizing"] = {
            "cores": self.cores, "spindles": int(self.ctx.params["spindles"]), "formula": self.formula,
            "page": "(2 × CPU cores) + disk spindles", "sizes": figures,
            "verdict": claim_verdict(figures, self.formula)}
        windows = {f"pool size {size}": (self.marks[f"before_{size}"], self.marks[f"after_{size}"]) for size in self.sizes}
        verdict.observed["activity"] = activity_record(self.ctx.timeline, self.ctx.my_log(), windows,
                                                       {"pool sizes": ", ".join(map(str, self.sizes)),
                                                        "the formula's size": self.formula})
