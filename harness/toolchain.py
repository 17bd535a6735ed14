"""Which tools an example needs, which are missing, and how to get them."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.manifest import Example, Requirement
from harness.process import run_process

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
VERSION_TIMEOUT_SECONDS = float(os.environ.get("HARNESS_VERSION_TIMEOUT", "30"))


@dataclass(frozen=True)
class ToolStatus:
    requirement: Requirement
    found: bool
    version: str = ""
    problem: str = ""  # present, but its version command failed (timed out, exited non-zero)

    @property
    def line(self) -> str:
        if self.problem:
            return f"{self.requirement.tool}: {self.problem}"
        if self.found:
            return f"{self.requirement.tool}: {self.version or 'present'}"
        return f"{self.requirement.tool}: MISSING; install: {self.requirement.install}"


def probe(requirement: Requirement) -> ToolStatus:
    program = requirement.version_command[0] if requirement.version_command else requirement.tool
    if shutil.which(program) is None and shutil.which(requirement.tool) is None:
        return ToolStatus(requirement, False)
    if not requirement.version_command:
        return ToolStatus(requirement, True)
    # Its own process group, killed whole on timeout: a hung `mvn -v` leaves no JVM behind.
    out = run_process(list(requirement.version_command), Path.cwd(), os.environ, VERSION_TIMEOUT_SECONDS)
    command = " ".join(requirement.version_command)
    if out.start_error:
        return ToolStatus(requirement, False)
    if out.timed_out:
        return ToolStatus(requirement, False, problem=f"`{command}` timed out after {VERSION_TIMEOUT_SECONDS:.0f} s "
                                                      "(its processes were killed); check the tool's installation")
    if out.exit_code != 0:
        return ToolStatus(requirement, False, problem=f"`{command}` exited with code {out.exit_code}; "
                                                      f"install: {requirement.install}")
    # Some tools colour their version line (mvn): keep the words, drop the escapes.
    text = ANSI_ESCAPE.sub("", out.stdout or out.stderr).strip().splitlines()
    return ToolStatus(requirement, True, text[0] if text else "")


def missing_tools(example: Example) -> list[ToolStatus]:
    return [status for status in (probe(r) for r in example.requires) if not status.found]
