"""Exit codes of `python -m harness`, after pytest's, so that CI can tell a crash from a
failing example:

    0  every case passed
    1  a case failed (or a known failure passed: XPASS)
    2  interrupted (Ctrl-C, SIGTERM, SIGHUP)
    3  internal error: the run could not be completed (no server, the server died, a crash)
    4  usage or manifest error (a bad option, a broken example.yaml; the other examples still ran)
"""

from __future__ import annotations

import enum
from typing import Protocol


class ExitCode(enum.IntEnum):
    OK = 0
    CASES_FAILED = 1
    INTERRUPTED = 2
    INTERNAL_ERROR = 3
    USAGE_ERROR = 4


class _Run(Protocol):
    errors: list[str]

    @property
    def ok(self) -> bool: ...


def for_run(run: _Run, manifest_errors: int) -> ExitCode:
    """A run-level error outranks a broken manifest, which outranks a failed case."""
    if len(run.errors) > manifest_errors:
        return ExitCode.INTERNAL_ERROR
    if manifest_errors:
        return ExitCode.USAGE_ERROR
    return ExitCode.OK if run.ok else ExitCode.CASES_FAILED
