"""A query that fails on a checked-out client, judged from the server's side: what became of
that client's backend, and whether the pool can still close."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from harness.scenarios.base import Verdict, scenario
from harness.scenarios.pools import STUCK_STATES, ClosingPool


@scenario("pool_release_on_error")
class PoolReleaseOnError(ClosingPool):
    """A statement fails on a checked-out client inside BEGIN. By checkpoint `after_error` the
    client must be back in the pool rolled back, or discarded: the server's view of its backend
    (data.pid) is gone or idle, never idle in transaction. Then the pool still answers, closes
    (checkpoint `after_close`) and the program exits."""

    not_in_transaction_pooling = (
        "the check follows the failed client by its backend pid (pg_backend_pid()); in transaction pooling a "
        "client has no server connection of its own between transactions, so that pid names whichever one "
        "PgBouncer lent it for that statement")
    checkpoints = ("after_error", "after_close")
    stuck_hints = {
        "after_error": "the failed statement's error was not caught, or the client's release waits",
        "after_close": "a client that was never released (released only on the success path) keeps the pool's "
                       "close waiting",
    }
    SETTLE_SECONDS = 1.0

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.after_error: list[tuple[int, str]] = []
        self.error_checkpoint_at: datetime | None = None

    def on_checkpoint(self, name: str) -> None:
        if name == "after_error":
            # A discarded client may close its connection without waiting for it (node-postgres's
            # release(err)): allow its backend a moment to go; a client kept open stays stuck.
            deadline = time.monotonic() + self.SETTLE_SECONDS
            while True:
                self.after_error = self.ctx.controls.backends()
                if not any(state in STUCK_STATES for _pid, state in self.after_error) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.error_checkpoint_at = self.ctx.controls.server_clock()
        else:
            super().on_checkpoint(name)

    def judge(self, data: dict[str, Any], verdict: Verdict, peak: int, opened: int) -> None:
        for key in ("failed_sqlstate", "after"):
            verdict.compare(f"data.{key}", self.expect[key], data.get(key))
        pid = data.get("pid")
        verdict.observed["backends_after_error"] = [state for _pid, state in self.after_error]
        if verdict.require(isinstance(pid, int), f"data.pid must be the failed client's backend pid "
                                                 f"(SELECT pg_backend_pid() before the failure), got {pid!r}"):
            self.judge_failed_client(pid, verdict)
        stuck = [(p, state) for p, state in self.after_error if state in STUCK_STATES]
        verdict.require(not stuck, f"{len(stuck)} backend(s) {sorted({s for _, s in stuck})} at checkpoint "
                                   "after_error: a client whose query failed went back to the pool (or was kept) "
                                   "without a rollback")
        row = self.ctx.query_case_db("SELECT count(*) FROM users WHERE id = %s", [self.ctx.params["row_id"]])
        verdict.require(row[0][0] == 0, f"row {self.ctx.params['row_id']} is on the server: the failed "
                                        "transaction was committed instead of rolled back")
        verdict.require(peak <= self.pool_max, f"the pool opened {peak} connections at once; its max is {self.pool_max}")
        self.judge_close(verdict)

    def judge_failed_client(self, pid: int, verdict: Verdict) -> None:
        """The server's record of that backend: the failure happened on it, and after it, before
        checkpoint after_error, came a ROLLBACK or the end of the connection."""
        until = self.error_checkpoint_at
        mine = [r for r in self.ctx.my_log() if r.pid == pid and (until is None or r.timestamp <= until)]
        failed_at = next((i for i, r in enumerate(mine) if r.severity == "ERROR"
                          and r.state_code == self.expect["failed_sqlstate"]), None)
        if not verdict.require(failed_at is not None, f"the server logged no ERROR {self.expect['failed_sqlstate']} "
                                                       f"on backend {pid} (data.pid): the failure was not on that client"):
            return
        after = [r.message for r in mine[failed_at + 1:]]
        rolled_back = any(m.upper().startswith("STATEMENT: ROLLBACK") or
                          (m.startswith("execute ") and m.upper().endswith(": ROLLBACK")) for m in after)
        state = dict(self.after_error).get(pid, "gone")
        # Gone from pg_stat_activity at the checkpoint is closed by then: the backend logs its
        # disconnection only after it has left pg_stat_activity, so that line may carry a later time.
        discarded = state == "gone" or any(m.startswith("disconnection") for m in after)
        verdict.observed["failed_client"] = {"pid": pid, "rolled_back": rolled_back, "discarded": discarded,
                                             "state_after_error": state}
        verdict.require(rolled_back or discarded,
                        f"backend {pid}, whose statement failed, was neither rolled back nor closed: the client went "
                        "back to the pool (or stayed out) with its transaction open (release it in finally, "
                        "discarding it on error)")
