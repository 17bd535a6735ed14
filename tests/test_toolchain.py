"""A declared minimum tool version is checked (by `doctor` and before a run), not just printed."""

from __future__ import annotations

import sys

from harness.manifest import Requirement
from harness.toolchain import probe, version_tuple

PYTHON = (sys.executable, "--version")


def test_a_tool_older_than_its_minimum_is_refused_with_the_install_hint() -> None:
    status = probe(Requirement("python3", "install Python 99", PYTHON, min_version="99.1"))
    assert not status.found
    running = ".".join(map(str, sys.version_info[:3]))
    assert status.line == f"python3: {running} is older than the 99.1 this example needs; install: install Python 99"


def test_a_tool_at_or_above_its_minimum_passes() -> None:
    assert probe(Requirement("python3", "-", PYTHON, min_version="3.11")).found
    assert probe(Requirement("python3", "-", PYTHON)).found


def test_version_numbers_are_read_from_the_usual_version_lines() -> None:
    assert version_tuple("go version go1.19.8 linux/amd64") == (1, 19, 8)
    assert version_tuple("v18.19.0") == (18, 19, 0)
    assert version_tuple("Apache Maven 3.8.7 (b89d5959fcde851dcb1c8946a785a163f14e1e29)") == (3, 8, 7)
    assert version_tuple('openjdk version "17.0.9" 2023-10-17') == (17, 0, 9)
    assert version_tuple("no digits") is None
