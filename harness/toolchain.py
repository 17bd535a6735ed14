"""Which tools an example needs, which are missing, and how to get them."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

from harness.manifest import Example, Requirement

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class ToolStatus:
    requirement: Requirement
    found: bool
    version: str = ""

    @property
    def line(self) -> str:
        if self.found:
            return f"{self.requirement.tool}: {self.version or 'present'}"
        return f"{self.requirement.tool}: MISSING; install: {self.requirement.install}"


def probe(requirement: Requirement) -> ToolStatus:
    program = requirement.version_command[0] if requirement.version_command else requirement.tool
    if shutil.which(program) is None and shutil.which(requirement.tool) is None:
        return ToolStatus(requirement, False)
    if not requirement.version_command:
        return ToolStatus(requirement, True)
    try:
        out = subprocess.run(list(requirement.version_command), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ToolStatus(requirement, False)
    if out.returncode != 0:
        return ToolStatus(requirement, False)
    # Some tools colour their version line (mvn): keep the words, drop the escapes.
    text = ANSI_ESCAPE.sub("", out.stdout or out.stderr).strip().splitlines()
    return ToolStatus(requirement, True, text[0] if text else "")


def missing_tools(example: Example) -> list[ToolStatus]:
    return [status for status in (probe(r) for r in example.requires) if not status.found]
