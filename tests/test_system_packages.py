"""An example's `system_packages:`: validated with a clear error, and read by the scripts
(python -m harness.system_packages) and by `doctor`, with a command on PATH counting as present."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.manifest import load_manifest
from harness.errors import InputError
from harness.spec import load_spec
from harness.system_packages import DebianPackage, is_present
from tests.support import REPO, SPEC

MANIFEST = """\
id: lang/thing
language: lang
title: a thing
driver: {{name: thing, version: "1"}}
system_packages:
{packages}
run: {{command: [sh, -c, "exit 1"]}}
scenarios: {{applies: [connect_now]}}
"""


def write(tmp_path: Path, packages: str) -> Path:
    folder = tmp_path / "lang" / "thing"
    folder.mkdir(parents=True)
    (folder / "example.yaml").write_text(MANIFEST.format(packages=packages))
    return folder / "example.yaml"


def harness(module: str, *args: str, examples: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PG"))}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**clean, "HARNESS_EXAMPLES": str(examples), "COLUMNS": "300"})


def test_a_bad_package_name_names_the_file_the_key_and_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "  debian: [nodejs, Node JS]")
    try:
        load_manifest(path, load_spec(SPEC).names)
    except InputError as exc:
        assert (exc.file, exc.key) == (str(path), "system_packages.debian.1")
        assert "{package: nodejs, command: node}" in exc.fix
    else:
        raise AssertionError("an invalid Debian package name was accepted")


def test_the_debian_list_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, '  other: "brew install thing"')
    try:
        load_manifest(path, load_spec(SPEC).names)
    except InputError as exc:
        assert exc.key == "system_packages.debian" and "is missing" in exc.problem
    else:
        raise AssertionError("system_packages without debian was accepted")


def test_a_command_on_path_counts_as_present_a_missing_package_does_not() -> None:
    assert is_present(DebianPackage("no-such-package-pg-harness", command="sh"))
    assert not is_present(DebianPackage("no-such-package-pg-harness"))
    assert not is_present(DebianPackage("no-such-package-pg-harness", command="no-such-command-pg-harness"))


def test_the_scripts_and_doctor_read_the_manifest(tmp_path: Path) -> None:
    write(tmp_path, "  debian: [{package: pg-harness-shell, command: sh}, pg-harness-absent]\n"
                    '  other: "brew install thing"')
    listed = harness("harness.system_packages", examples=tmp_path)
    assert listed.returncode == 0 and listed.stdout.split() == ["pg-harness-shell", "pg-harness-absent"]
    missing = harness("harness.system_packages", "--missing", "--example", "lang/thing", examples=tmp_path)
    assert missing.returncode == 0 and missing.stdout.split() == ["pg-harness-absent"]
    unknown = harness("harness.system_packages", "--example", "lang/other", examples=tmp_path)
    assert unknown.returncode == 1 and "no example matches lang/other" in unknown.stderr
    doctor = harness("harness", "doctor", examples=tmp_path)
    assert "Debian packages: pg-harness-shell pg-harness-absent (missing); elsewhere: brew install thing" in doctor.stdout
