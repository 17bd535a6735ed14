"""Which tools an example needs, which are missing, and how to get them."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.manifest import Example, Requirement
from harness.process import run_process

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The first dotted number of a version line: "v18.19.0", "go version go1.19.8", "Apache Maven 3.8.7".
VERSION_NUMBER = re.compile(r"(\d+(?:\.\d+)+|\d+)")
VERSION_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ToolStatus:
    requirement: Requirement
    found: bool
    version: str = ""
    problem: str = ""  # why a tool that is there does not do: too old, or its version command failed

    @property
    def line(self) -> str:
        if self.problem:
            hint = "" if "install:" in self.problem else f"; install: {self.requirement.install}"
            return f"{self.requirement.tool}: {self.problem}{hint}"
        if self.found:
            return f"{self.requirement.tool}: {self.version or 'present'}"
        return f"{self.requirement.tool}: MISSING; install: {self.requirement.install}"


def version_tuple(text: str) -> tuple[int, ...] | None:
    match = VERSION_NUMBER.search(text)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def too_old(requirement: Requirement, version_line: str) -> str:
    """Why the version line does not meet requirement.min_version ('' when it does)."""
    if not requirement.min_version:
        return ""
    found = version_tuple(version_line)
    wanted = version_tuple(requirement.min_version)
    if found is None:
        return f"no version number in {version_line!r}; {requirement.min_version} or newer is needed"
    if wanted is not None and found < wanted:
        return f"{'.'.join(map(str, found))} is older than the {requirement.min_version} this example needs"
    return ""


def probe(requirement: Requirement) -> ToolStatus:
    program = requirement.version_command[0] if requirement.version_command else requirement.tool
    if shutil.which(program) is None and shutil.which(requirement.tool) is None:
        return ToolStatus(requirement, False)
    if not requirement.version_command:
        return ToolStatus(requirement, True)
    # Its own process group, killed whole on timeout: a hung `mvn -v` leaves no JVM behind.
    out = run_process(list(requirement.version_command), Path.cwd(), None, VERSION_TIMEOUT_SECONDS)  # None: inherit
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
    version = text[0] if text else ""
    problem = too_old(requirement, version)
    return ToolStatus(requirement, not problem, version, problem)


def missing_tools(example: Example) -> list[ToolStatus]:
    return [status for status in (probe(r) for r in example.requires) if not status.found]
