"""Session state a sample may rely on: a statement prepared by name, a session SET, a session
advisory lock. Each lives in one server session. They exist for the PgBouncer matrix: behind
transaction pooling a client's next transaction may run in another server session (the known
incompatibilities in spec/pgbouncer.yaml), and the checks' messages name that mechanism.

Which server connection PgBouncer lends is its own choice (with server_check_delay = 0 it lends
the one released last, so a lone client keeps meeting the same one). At the example's
checkpoints the check makes the switch happen every run: PgBouncer's RECONNECT closes the case's
server connections as they are released, which in transaction mode is at once (the client's next
transaction gets a new one), and in session mode only when the client leaves (its session keeps
its own). Straight to the server it does nothing."""

from __future__ import annotations

import re
from typing import Any

from harness.observe import LogRecord
from harness.scenarios.base import ScenarioCheck, Verdict, scenario

# A logged execution of a named statement: protocol level ("execute users_by_id: SELECT ...",
# pgjdbc's "execute S_1: ...") or SQL level ("statement: EXECUTE users_by_id(1)").
# The names PgBouncer (1.21+, max_prepared_statements) gives the statements it prepares for its clients.
POOLER_STATEMENT_NAME = re.compile(r"^PGBOUNCER_\d+$")
NAMED_EXECUTION = re.compile(r"^(execute (?!<unnamed>)[^:]+:|statement:\s*EXECUTE\b)", re.I)
POOLED_HINT = ("behind transaction pooling each transaction may run on another server connection, "
               "and session state stays on the one it was made on")


STATEMENT_NAME = re.compile(r"^(?:execute ([^:]+):|statement:\s*EXECUTE\s+\"?([^\s(\"]+))", re.I)


def named_executions(log: list[LogRecord]) -> list[LogRecord]:
    return [r for r in log if NAMED_EXECUTION.match(r.message)]


def statement_name(record: LogRecord) -> str:
    """The name a logged execution ran under (protocol or SQL level)."""
    match = STATEMENT_NAME.match(record.message)
    return next((g for g in match.groups() if g), "") if match else ""


def reads_and_writes(log: list[LogRecord], setting: str) -> tuple[list[LogRecord], list[LogRecord]]:
    """The logged reads (current_setting(), SHOW <setting>) and writes (set_config(), SET <setting>)
    of a setting. The functions may take its name as a bound parameter, so they count by name alone."""
    name = re.escape(setting)
    read = re.compile(rf"\bcurrent_setting\s*\(|\bSHOW\s+{name}\b", re.I)
    write = re.compile(rf"\bset_config\s*\(|^(statement|execute [^:]*):\s*SET\s+(SESSION\s+)?{name}\b", re.I)
    reads = [r for r in log if read.search(r.message)]
    return reads, [r for r in log if write.search(r.message) and not read.search(r.message)]


class SwitchesServerConnections(ScenarioCheck):
    """At each of SWITCH_AT the case's server connections are replaced (see the module)."""

    SWITCH_AT: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reached: list[str] = []
        self.replaced = 0

    def on_checkpoint(self, name: str) -> None:
        if name not in self.SWITCH_AT:
            super().on_checkpoint(name)
        self.reached.append(name)
        self.replaced += self.ctx.controls.reconnect_pooler()

    def checkpoints_reached(self, verdict: Verdict) -> None:
        verdict.observed["server_connections_replaced"] = self.replaced
        missing = [name for name in self.SWITCH_AT if name not in self.reached]
        verdict.require(not missing, f"the example never reached the checkpoint(s) {missing}")


@scenario("prepared_statement_reuse")
class PreparedStatementReuse(SwitchesServerConnections):
    """Checkpoint `prepared`, after the first execution."""

    SWITCH_AT = ("prepared",)

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        self.checkpoints_reached(verdict)
        expected = self.expect["results"]
        verdict.compare("data.results", expected, data.get("results"))
        executions = named_executions(self.ctx.my_log())
        verdict.require(len(executions) >= len(expected),
                        f"the server ran {len(executions)} of the {len(expected)} executions as a named prepared "
                        f"statement: prepare {self.ctx.params['name']!r} once with the driver's own API and "
                        "execute it by name (an unnamed statement is prepared afresh each time)")
        verdict.observed["named_executions"] = len(executions)
        self.judge_name(executions, verdict)
        verdict.observed["server_sessions"] = len({r.pid for r in executions})
        # A driver may heal a 26000 on its own (pgjdbc re-prepares and retries in autocommit):
        # then the case passes, and the server's errors show what it healed.
        verdict.observed["not_found_on_server"] = sum(1 for r in self.ctx.my_log() if r.state_code == "26000")


    def judge_name(self, executions: list[LogRecord], verdict: Verdict) -> None:
        """The name the server ran it under is params.name, unless the manifest says the driver
        names its statements itself (then only the reuse is checked, and the verdict says so)."""
        wanted = self.ctx.params["name"]
        names = sorted({statement_name(r) for r in executions})
        if not names:
            return
        manifest = self.ctx.example.manifest
        if self.ctx.pooled and all(POOLER_STATEMENT_NAME.match(name) for name in names):
            # PgBouncer 1.21+ with max_prepared_statements prepares the client's statement on each
            # server connection under a name of its own: the client's name never reaches the server.
            verdict.observed["name_checked"] = (f"not checked: the pooler re-prepared it under its own name(s) "
                                                f"({', '.join(names)}, max_prepared_statements), so the server never "
                                                f"sees {wanted!r}; only the reuse was checked")
            return
        if self.ctx.example.statement_names == "automatic":
            verdict.observed["name_checked"] = (f"not checked: {manifest} declares driver.statement_names: automatic, so "
                                                f"only the reuse of one named statement was ({', '.join(names)}), not "
                                                f"that it is named {wanted!r}")
            return
        verdict.observed["name_checked"] = f"the server ran it as {', '.join(names)}; params.name is {wanted!r}"
        verdict.require(names == [wanted],
                        f"the server ran the executions under the name(s) {names}, not params.name {wanted!r}: "
                        f"prepare it by that name with the driver's own API; if the driver has no API for a "
                        f"statement's name (it names its own, like pgjdbc's S_1), declare `statement_names: "
                        f"automatic` under driver in {manifest}")


@scenario("session_set")
class SessionSet(SwitchesServerConnections):
    """Checkpoints `connected` (both clients connected, nothing run yet) and `before_read_back`
    (client 1 has SET, client 2 has read). Judged on what they read and on the statement log:
    both reads must have reached the server (a reported value is not a read), and the log's
    backend pids say which server session ran each statement."""

    SWITCH_AT = ("connected", "before_read_back")

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        self.checkpoints_reached(verdict)
        setting, value = self.ctx.params["setting"], self.ctx.params["value"]
        all_reads, writes = reads_and_writes(self.ctx.my_log(), setting)
        if not verdict.require(bool(writes), f"the server never saw a SET of {setting} (set_config or SET): "
                                             "client 1 must set it in its session"):
            return
        reads = [r for r in all_reads if r.timestamp >= writes[0].timestamp]
        verdict.require(len(reads) >= 2,
                        f"the server saw {len(reads)} read(s) of {setting} after the SET, expected one per client "
                        "(current_setting or SHOW): report what the server answers, not the value that was set")
        set_pid, read_pids = writes[0].pid, [r.pid for r in reads]
        verdict.observed["server_sessions"] = {"set": set_pid, "reads": read_pids}
        # In log order: client 2's read, then client 1's read back.
        other_pid, back_pid = (read_pids + [None, None])[:2]
        read_back, other = data.get("read_back"), data.get("other_client_read")
        where = f" (the SET ran on server backend {set_pid}, the read back on {back_pid})" \
            if back_pid is not None and back_pid != set_pid else ""
        verdict.require(read_back == self.expect["read_back"],
                        f"session SET was lost: client 1 set {setting} to {value!r} and read back {read_back!r} in "
                        f"a later statement{where}; {POOLED_HINT}", "session_set_lost")
        leaked_to = f" (its read ran on server backend {set_pid}, where client 1 SET it)" if other_pid == set_pid else ""
        verdict.require(other != value,
                        f"session SET leaked to another client: client 2 read {setting} = {other!r}, which only "
                        f"client 1 set{leaked_to}; {POOLED_HINT}", "session_set_leaked")


@scenario("advisory_lock")
class AdvisoryLock(SwitchesServerConnections):
    """Checkpoints `connected` and `before_unlock` (client 1 holds the lock, client 2 has tried it).
    Judged on what the server answered and on its log: each call must be there, and the log's
    backend pids say which server session ran each."""

    SWITCH_AT = ("connected", "before_unlock")
    CALLS = ("pg_advisory_lock", "pg_try_advisory_lock", "pg_advisory_unlock")

    def verify(self, data: dict[str, Any], verdict: Verdict) -> None:
        self.checkpoints_reached(verdict)
        log = self.ctx.my_log()
        calls = {name: [r for r in log if re.search(rf"\b{name}\s*\(", r.message)] for name in self.CALLS}
        missing = [name for name, found in calls.items() if not found]
        if not verdict.require(not missing, f"the server never saw {', '.join(missing)}: client 1 locks and "
                                            "unlocks, client 2 tries the lock, each as a statement of its own"):
            return
        lock, tried, unlock = (calls[name][0].pid for name in self.CALLS)
        verdict.observed["server_sessions"] = {"lock": lock, "try": tried, "unlock": unlock}
        unlocked, other = data.get("unlocked"), data.get("other_client_got_it")
        where = f" (the lock was taken on server backend {lock}, the unlock ran on {unlock})" if unlock != lock else ""
        verdict.require(unlocked is self.expect["unlocked"],
                        f"session advisory lock was lost: client 1's pg_advisory_unlock returned {unlocked!r}, so "
                        f"its server session did not hold the lock it took{where}; {POOLED_HINT}", "advisory_lock_lost")
        there = f" (its try ran on server backend {lock}, which holds client 1's lock)" if tried == lock else ""
        verdict.require(other is self.expect["other_client_got_it"],
                        f"session advisory lock leaked to another client: client 2's pg_try_advisory_lock returned "
                        f"{other!r} while client 1 held the lock{there}; {POOLED_HINT}", "advisory_lock_leaked")
