"""The seam of a backend: the server it starts (PostgresServer: `admin` for the harness, `endpoint`
for the examples and the probe), the executor that builds and starts the examples, natively
in their folder or in containers, and where a pooled topology's PgBouncer runs. Everything
else (cases, checks, verdicts) is the same for all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from harness.build import BuildResult
from harness.manifest import Example
from harness.toolchain import ToolStatus

if TYPE_CHECKING:
    from harness.config import Config
    from harness.pooler import Topology
    from harness.pooler.process import PoolerProcess
    from harness.server.base import PostgresServer


class Confinement(Protocol):
    """How one case's process is kept apart (natively harness.sandbox.CaseSandbox, a PID
    namespace; on docker harness.backends.docker.ContainerCase, an exec into a kept container)."""

    def wrap(self, argv: Sequence[str]) -> list[str]:
        """The command that starts argv inside the confinement."""

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment of that command."""

    def finish(self) -> tuple[int | None, list[str], float | None]:
        """After the process ended: (its own exit code if the confinement saw it, what it left
        running, now killed, the CPU seconds its processes used; None when unknown)."""


@dataclass(frozen=True)
class Launch:
    """What run_process needs to start one case."""

    command: str | tuple[str, ...] | list[str]
    cwd: Path
    env: dict[str, str]
    confine: Confinement | None = None


class Executor(Protocol):
    def missing_tools(self, example: Example) -> list[ToolStatus]:
        """Tools this executor needs for the example that are not on this machine."""

    def build(self, example: Example, force: bool) -> BuildResult: ...

    def launch(self, example: Example, env: dict[str, str], case_id: str) -> Launch: ...

    def after_case(self, case_id: str) -> None:
        """Called right after the case's process ended (also after a timeout kill or an error)."""

    def cleanup(self) -> None:
        """Remove whatever the executor made for this run (containers, networks, image tags)."""


class Backend(Protocol):
    name: str

    def make_server(self, config: "Config", password: str, name: str = "postgres") -> "PostgresServer":
        """The run's server, not started yet (`name` tells a second one apart: the cutover's target)."""

    def make_executor(self, config: "Config") -> Executor: ...

    def pooler_process(self, config: "Config", topology: "Topology") -> "PoolerProcess | None":
        """Where the run's PgBouncer of that topology (version and pool mode) runs (None: on this machine)."""

    def describe(self, config: "Config") -> str:
        """One line on the PostgreSQL this backend would run (pytest's header); no server is started."""
