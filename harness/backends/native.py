"""The native backend: a throwaway cluster on this machine (harness.server.native) and the
examples built and run in their own folders."""

from __future__ import annotations

from collections.abc import Mapping

from harness.backends.base import Launch
from harness.build import BuildCache, BuildResult
from harness.config import Config
from harness.errors import HarnessError
from harness.manifest import Example
from harness.pooler import Topology
from harness.sandbox import DISABLE_VARIABLE, Sandbox
from harness.server.base import ServerSettings
from harness.server.native import NativeServer, find_bindir, server_version_of
from harness.toolchain import ToolStatus, missing_tools


class NativeExecutor:
    def __init__(self, config: Config) -> None:
        self.sandbox = Sandbox(disabled=config.environ.get(DISABLE_VARIABLE) == "none")
        self.cache = BuildCache(config.paths.cache, config.environ, self.sandbox)

    def missing_tools(self, example: Example) -> list[ToolStatus]:
        return missing_tools(example)

    def build(self, example: Example, force: bool) -> BuildResult:
        return self.cache.build(example, force=force)

    def launch(self, example: Example, env: Mapping[str, str], case_id: str) -> Launch:
        return Launch(example.run_command, example.folder, dict(env), self.sandbox.case())

    def after_case(self, case_id: str) -> None:
        return None

    def cleanup(self) -> None:
        self.sandbox.cleanup()


class NativeBackend:
    name = "native"

    def make_server(self, config: Config, password: str, name: str = "postgres") -> NativeServer:
        return NativeServer(ServerSettings(superuser_password=password), bindir=find_bindir(config.pg_bindir),
                            template_cache=config.initdb_cache)

    def make_executor(self, config: Config) -> NativeExecutor:
        return NativeExecutor(config)

    def pooler_process(self, config: Config, topology: Topology) -> None:
        return None   # PgBouncer's own default: a process on this machine

    def describe(self, config: Config) -> str:
        try:
            bindir = find_bindir(config.pg_bindir)
            return f"PostgreSQL {server_version_of(bindir)} ({bindir})"
        except HarnessError as exc:
            return f"PostgreSQL not found: {exc}"


BACKEND = NativeBackend()
