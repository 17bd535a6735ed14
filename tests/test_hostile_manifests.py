"""Bad manifests, as a contributor could write them: each gets one error naming the file and
the fix, and the unrelated examples are still discovered and run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.manifest import discover
from harness.spec import load_spec
from tests.support import BAD_EXAMPLES, REPO, SPEC

GOOD = """\
id: {id}
language: {language}
title: "{title}"
driver: {{name: psycopg, version: "3.3.9"}}
run:
  command: 'PYTHONPATH=../.. exec "$BAD_EXAMPLE_PYTHON" main.py'
{extra}scenarios:
  applies: [connect_now]
"""

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


def manifest(language: str, name: str, title: str = "fine", extra: str = "") -> str:
    return GOOD.format(id=f"{language}/{name}", language=language, title=title, extra=extra)


# folder -> (how its example.yaml is made, what its one error must say)
CASES: dict[str, tuple[object, str]] = {
    "not-utf8": (manifest("x", "not-utf8", "caf\udce9").encode("utf-8", "surrogateescape"), "is not UTF-8 text"),
    "a-directory": ("DIR", "is a directory, not a file"),
    "nul-command": (manifest("x", "nul-command").replace("main.py'", "main.py\\0; rm -rf /'").replace(
        "'PYTHONPATH", '"PYTHONPATH').replace("\\0; rm -rf /'", '\\0; rm -rf /"').replace('"$BAD_EXAMPLE_PYTHON"', "$BAD_EXAMPLE_PYTHON"),
        "run.command: contains a NUL character"),
    "alias-bomb": (manifest("x", "alias-bomb") + BOMB, "uses the YAML alias"),
    "oversized": (manifest("x", "oversized") + "# " + "x" * 70000 + "\n", "is larger than 64 KiB"),
    "duplicate-key": (manifest("x", "duplicate-key", extra="run:\n  command: [sh, -c, 'exit 0']\n"),
                      "repeats the key 'run'"),
    "timeout-nan": (manifest("x", "timeout-nan").replace("main.py'\n", "main.py'\n  timeout_seconds: .nan\n"),
                    "run.timeout_seconds: is nan"),
    "timeout-inf": (manifest("x", "timeout-inf").replace("main.py'\n", "main.py'\n  timeout_seconds: .inf\n"),
                    "run.timeout_seconds: is inf"),
    "timeout-negative": (manifest("x", "timeout-negative").replace("main.py'\n", "main.py'\n  timeout_seconds: -1\n"),
                         "run.timeout_seconds: is -1: it must be a number of seconds above 0"),
    "timeout-absurd": (manifest("x", "timeout-absurd").replace("main.py'\n", "main.py'\n  timeout_seconds: 1000000000\n"),
                       "run.timeout_seconds: is 1000000000: it must be"),
    "dup_name": (manifest("x", "dup_name"), "gives the same role or database name (ex_x_dup_name)"),
    "dup-name": (manifest("x", "dup-name"), ""),  # the first of the two is fine
    "markup": (manifest("x", "markup", title="[bold red]pwned[/] [/] \\\\[x] ^[a-z]+$"), ""),
    "deep": ("a: " + "[" * 20000 + "]" * 20000, "nests too deeply"),
    "unclosed": ("a: " + "[" * 20000, "is not valid YAML"),
    "huge-int": (manifest("x", "huge-int").replace("main.py'\n", "main.py'\n  timeout_seconds: " + "9" * 5000 + "\n"),
                 "holds a value that cannot be read"),
    "dockerfile-outside": (manifest("x", "dockerfile-outside", extra="docker: {dockerfile: ../../../../../etc/passwd}\n"),
                           "docker.dockerfile: '../../../../../etc/passwd' is outside the example's folder"),
    "fifo": ("FIFO", "is not a regular file"),
}


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    root = tmp_path / "examples"
    root.mkdir()
    shutil.copy(BAD_EXAMPLES / "_lib.py", root / "_lib.py")
    good = root / "good" / "reference"
    shutil.copytree(BAD_EXAMPLES / "good" / "reference", good)
    for folder, (content, _expected) in CASES.items():
        path = root / "x" / folder
        path.mkdir(parents=True)
        shutil.copy(BAD_EXAMPLES / "good" / "reference" / "main.py", path / "main.py")
        if content == "DIR":
            (path / "example.yaml").mkdir()
        elif content == "FIFO":
            os.mkfifo(path / "example.yaml")  # reading it would block forever
        elif isinstance(content, bytes):
            (path / "example.yaml").write_bytes(content)
        else:
            (path / "example.yaml").write_text(str(content))
    (root / "x" / "misnamed").mkdir()
    (root / "x" / "misnamed" / "example.yml").write_text(manifest("x", "misnamed"))
    (root / "x" / "dangling").mkdir()
    (root / "x" / "dangling" / "example.yaml").symlink_to(root / "nowhere.yaml")
    return root


def test_each_bad_manifest_gets_one_error_naming_the_file_and_the_fix(examples: Path) -> None:
    start = time.monotonic()
    found = discover(examples, load_spec(SPEC).names)
    # An alias bomb expanded would take hours and gigabytes; a loaded CI machine may take seconds.
    assert time.monotonic() - start < 60, "discovery must not expand an alias bomb"
    errors = {Path(e.file).parent.name: e.render() for e in found.errors}
    for folder, (_content, expected) in CASES.items():
        if not expected:
            continue
        assert folder in errors, f"{folder}: no error; errors: {errors}"
        assert expected in errors[folder], errors[folder]
        assert str(examples / "x" / folder / "example.yaml") in errors[folder]
        assert "\n  fix: " in errors[folder]
    assert {e.id for e in found.examples} == {"good/reference", "x/dup-name", "x/markup"}
    assert any("example.yml: not read" in w and "rename it to example.yaml" in w for w in found.warnings), found.warnings
    assert any("dangling/example.yaml: not read: a symbolic link" in w and "fix:" in w for w in found.warnings)


def _cli(examples: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HARNESS_EXAMPLES=str(examples), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(tmp_path), BAD_EXAMPLE_PYTHON=sys.executable)
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


def test_list_prints_markup_and_brackets_as_written(examples: Path, tmp_path: Path) -> None:
    listed = _cli(examples, tmp_path, "list")
    assert "Traceback" not in listed.stderr + listed.stdout, listed.stderr
    assert "[bold red]pwned[/] [/] \\[x] ^[a-z]+$" in listed.stdout, listed.stdout
    assert listed.returncode == 4


def test_a_run_with_bad_manifests_still_runs_the_others_and_writes_results(examples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "results.json"
    ran = _cli(examples, tmp_path, "run", "--scenario", "connect_now", "--out", str(out))
    text = ran.stdout + ran.stderr
    assert "Traceback" not in text, text
    assert ran.returncode == 4, text  # a manifest error, after the rest ran
    results = json.loads(out.read_text())
    outcomes = {e["id"]: e["outcome"] for e in results["examples"]}
    assert outcomes["good/reference"] == "passed", text
    assert any("nul-command" in error for error in results["errors"])
    assert "[bold red]pwned[/]" not in text or "Traceback" not in text
