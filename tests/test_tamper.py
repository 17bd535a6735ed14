"""Tamper evidence (harness.tamper): a build or case that changes the spec, the harness or
another example's sources fails naming the file, and the run stops using it. The hostile
example writes only into a scratch copy of the tree, never into this repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.tamper import TamperEvidence, protected_tree
from tests.support import BAD_EXAMPLES, REPO

TARGETS = ("spec/scenarios/select_rows.yaml", "harness/scenarios/core.py", "examples/good/reference/main.py")


def _tree(root: Path) -> TamperEvidence:
    (root / "spec").mkdir()
    (root / "spec" / "fixture.yaml").write_text("a: 1\n")
    example = root / "examples" / "lang" / "one"
    (example / "build").mkdir(parents=True)
    (example / "main.py").write_text("print()\n")
    return TamperEvidence(protected_tree(root / "spec", root / "examples", [("lang/one", example, ["build"])], root))


def test_only_a_change_of_content_is_found_and_it_is_found_once(tmp_path: Path) -> None:
    tamper = _tree(tmp_path)
    example = tmp_path / "examples" / "lang" / "one"
    watch = tamper.begin("case lang/one::connect_now")
    (example / "build" / "out.bin").write_text("its own output")     # its writable place
    os.utime(example / "main.py")                                   # a touch: the same content
    assert tamper.end(watch) == []
    watch = tamper.begin("case lang/one::select_rows")
    (tmp_path / "spec" / "fixture.yaml").write_text("a: 2\n")
    (example / "extra.py").write_text("")
    (example / "main.py").unlink()
    found = sorted(tamper.end(watch))
    assert [line.split(": ", 1)[1].split(";")[0] for line in found] == [
        "examples/lang/one/extra.py (added)", "examples/lang/one/main.py (removed)", "spec/fixture.yaml (changed)"]
    assert tamper.end(tamper.begin("case lang/one::active_users")) == []   # reported once
    assert "spec/fixture.yaml (changed), during case lang/one::select_rows" in (tamper.refusal("lang/two") or "")


def test_an_example_change_stops_only_that_example_and_a_change_goes_to_whoever_ran_then(tmp_path: Path) -> None:
    tamper = _tree(tmp_path)
    before = tamper.begin("case lang/two::connect_now")
    time.sleep(1.2)   # past the ctime slack: started before the change, so a suspect
    ending = tamper.begin("case lang/three::connect_now")
    (tmp_path / "examples" / "lang" / "one" / "main.py").write_text("changed\n")
    assert tamper.end(ending)[0].startswith("changed a file outside its writable places: "
                                            "examples/lang/one/main.py (changed) (while case lang/two::connect_now also ran)")
    assert "examples/lang/one/main.py (changed)" in tamper.end(before)[0]
    assert tamper.refusal("lang/two") is None
    assert (tamper.refusal("lang/one") or "").startswith("not run: its sources changed during this run")


def _scratch_copy(tmp_path: Path) -> Path:
    """The harness, the spec and two examples, copied: the only tree the hostile example may write to."""
    root = tmp_path / "tree"
    for part in ("harness", "spec", "docs"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root)
    examples = root / "examples"
    for part in ("good/reference", "hostile/tamperer"):
        shutil.copytree(BAD_EXAMPLES / part, examples / part)
    shutil.copy(BAD_EXAMPLES / "_lib.py", examples)
    (root / "SCRATCH-COPY").write_text("tests/test_tamper.py: a scratch copy, written to by hostile/tamperer\n")
    return root


@pytest.mark.parametrize("target", TARGETS)
def test_a_write_to_the_spec_the_harness_or_another_example_fails_its_case_by_name(tmp_path: Path, target: str) -> None:
    root = _scratch_copy(tmp_path)
    original = (root / target).read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env.update(HARNESS_EXAMPLES=str(root / "examples"), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_PYTHON=sys.executable, BAD_EXAMPLE_TAMPER_ROOT=str(root), BAD_EXAMPLE_TAMPER_TARGET=target)
    ran = subprocess.run([sys.executable, "-m", "harness", "run", "--example", "hostile/tamperer", "--example",
                          "good/reference", "--scenario", "connect_now", "--scenario", "select_rows", "-j", "1",
                          "--out", str(tmp_path / "out") + "/"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=300)
    text = ran.stdout + ran.stderr
    assert ran.returncode == 1, text
    assert (root / target).read_text() != original, "the hostile example did not write: the test proves nothing"
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    cases = {(e["id"], s["name"]): s for e in results["examples"] for s in e["scenarios"]}
    tampering = [cases[("hostile/tamperer", s)] for s in ("connect_now", "select_rows")]
    named = f"changed a file outside its writable places: {target} (changed)"
    caught = [case for case in tampering if named in case["message"]]
    assert caught and all(case["outcome"] == "failed" for case in tampering), tampering
    assert f"tamper evidence: {target} (changed) during case hostile/tamperer::" in text, text
    assert "protected file(s) changed during the run (" in text, text   # the run's closing line
    stopped = f"{target} (changed), during case hostile/tamperer::"
    refused = [case for key, case in cases.items() if stopped in case["message"] and "not run:" in case["message"]]
    if target.startswith(("spec/", "harness/")):
        # After the first case wrote, nothing more runs: its second case is refused by name.
        assert len(caught) == 1 and len(refused) >= 1, cases
    else:
        # Another example's file: that example stops, the hostile one goes on (and writes again).
        assert len(caught) == 2, tampering
        assert all(key[0] == "good/reference" for key, case in cases.items() if case in refused), refused
        assert all(case["outcome"] == "passed" or case in refused for key, case in cases.items()
                   if key[0] == "good/reference"), cases
