"""Exit codes of `python -m harness`, after pytest's, so that CI can tell a crash from a
failing example (harness.verdict.exit_code picks one for a run):

    0  every case passed
    1  a case failed (or a known failure passed: XPASS)
    2  interrupted (Ctrl-C, SIGTERM, SIGHUP)
    3  internal error: the run could not be completed (no server, the server died, a crash)
    4  usage or manifest error (a bad option, a broken example.yaml; the other examples still ran)
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    CASES_FAILED = 1
    INTERRUPTED = 2
    INTERNAL_ERROR = 3
    USAGE_ERROR = 4

