"""The command line (`python -m harness`) and how the pytest plugin collects: no server needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.manifest import discover
from harness.spec import load_spec
from tests.support import BAD_EXAMPLES, REPO, SPEC


def harness(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PG"))}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO, env={**clean, "COLUMNS": "200", **env},
                          capture_output=True, text=True, timeout=60)


def test_list_validates_the_real_examples() -> None:
    out = harness("list")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "error:" not in out.stdout
    examples = discover(REPO / "examples", load_spec(SPEC).names).examples
    assert len(examples) >= 6
    for example in examples:
        assert f"  {example.id} " in out.stdout
    for name in load_spec(SPEC).names:
        assert f"  {name} " in out.stdout


def test_list_fails_on_a_broken_manifest_and_names_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "lang" / "broken"
    folder.mkdir(parents=True)
    (folder / "example.yaml").write_text("id: lang/broken\nlanguage: lang\n")
    out = harness("list", HARNESS_EXAMPLES=str(tmp_path))
    assert out.returncode == 4  # a manifest error
    text = " ".join(out.stdout.split())  # rich may wrap long lines
    assert f"error: {folder / 'example.yaml'}: title: is missing" in text
    assert "fix: add `title:`" in text


def test_run_with_a_filter_that_matches_nothing_exits_4_without_a_server() -> None:
    out = harness("run", "--example", "nothing/here")
    assert out.returncode == 4
    assert "--example: nothing/here: matches nothing" in out.stdout

    # Comma-separated as --via takes it: each part is a filter of its own, and the one that matches nothing is named.
    out = harness("run", "--example", "node/pg-client", "--scenario", "connect_now,no_such_scenario")
    assert out.returncode == 4
    assert "--scenario: no_such_scenario: matches nothing" in out.stdout


def test_an_unknown_command_is_a_usage_error() -> None:
    out = harness("frobnicate")
    assert out.returncode == 4  # usage error, as pytest
    assert "invalid choice: 'frobnicate'" in out.stderr


def test_example_yaml_under_tests_is_not_part_of_the_matrix() -> None:
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          str(BAD_EXAMPLES)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 5, out.stdout + out.stderr  # "no tests collected"
    assert "bad/" not in out.stdout and "::connect_now" not in out.stdout


def test_a_mistyped_filter_suggests_the_nearest_id_and_makes_no_folder(tmp_path: Path) -> None:
    for flag, typo, near in (("--example", "node/pg-pol", "node/pg-pool"), ("--scenario", "pool_bounderd", "pool_bounded")):
        out = tmp_path / "out"
        done = subprocess.run([sys.executable, "-m", "harness", "run", flag, typo, "--out", f"{out}/"],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 4, done.stdout + done.stderr
        assert flag in done.stdout and typo in done.stdout and f"did you mean {near}" in done.stdout, done.stdout
        assert not out.exists()
