"""How an example is built and started: natively in its folder, or (the docker backend) in its
own container. The session asks the executor for a build and for the command of each case;
everything else (server, checks, verdicts) is the same for both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from harness.build import BuildCache, BuildResult
from harness.manifest import Example
from harness.sandbox import CaseSandbox, Sandbox
from harness.toolchain import ToolStatus, missing_tools


@dataclass(frozen=True)
class Launch:
    """What run_process needs to start one case."""

    command: str | tuple[str, ...] | list[str]
    cwd: Path
    env: dict[str, str]
    confine: CaseSandbox | None = None  # natively: the case's own PID namespace (harness.sandbox)


class Executor(Protocol):
    def missing_tools(self, example: Example) -> list[ToolStatus]:
        """Tools this executor needs for the example that are not on this machine."""

    def build(self, example: Example, force: bool) -> BuildResult: ...

    def launch(self, example: Example, env: dict[str, str], case_id: str) -> Launch: ...

    def after_case(self, case_id: str) -> None:
        """Called right after the case's process ended (also after a timeout kill or an error)."""

    def cleanup(self) -> None:
        """Remove whatever the executor made for this run (containers, networks, image tags)."""


class NativeExecutor:
    def __init__(self, cache_dir: Path) -> None:
        self.sandbox = Sandbox()
        self.cache = BuildCache(cache_dir, self.sandbox)

    def missing_tools(self, example: Example) -> list[ToolStatus]:
        return missing_tools(example)

    def build(self, example: Example, force: bool) -> BuildResult:
        return self.cache.build(example, force=force)

    def launch(self, example: Example, env: dict[str, str], case_id: str) -> Launch:
        return Launch(example.run_command, example.folder, env, self.sandbox.case())

    def after_case(self, case_id: str) -> None:
        return None

    def cleanup(self) -> None:
        self.sandbox.cleanup()
