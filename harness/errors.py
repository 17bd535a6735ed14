"""Errors a user can act on: each names the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """A problem with the run as a whole (no server, no spec)."""


class ServerDied(HarnessError):
    """The shared server stopped during the run: one run-level error, not a failure per case."""


class InputError(HarnessError):
    def __init__(self, file: Path | str, key: str, problem: str, fix: str) -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.problem}\n  fix: {self.fix}"
