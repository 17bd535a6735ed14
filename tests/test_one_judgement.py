"""Outcomes are decided in one place (harness.case.judgement): a known failure (xfailed and
xpassed), a missing toolchain, a not-declared and a not-applicable case come out identically
through the command line and through pytest, down to the message and the details."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import BAD_EXAMPLES, REPO

SCENARIOS = ("connect_now", "select_rows", "types")
NOT_APPLICABLE = "  not_applicable:\n    types: \"this example's sample has no typed values\"\n"


def examples_in(tmp_path: Path) -> Path:
    """bad/known (one known failure that fails, one that passes, and an n/a) and bad/no-toolchain."""
    root = tmp_path / "examples"
    for example in ("bad/known", "bad/no-toolchain"):
        shutil.copytree(BAD_EXAMPLES / example, root / example)
    shutil.copy(BAD_EXAMPLES / "_lib.py", root / "_lib.py")
    manifest = root / "bad" / "known" / "example.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("  applies: [connect_now, select_rows]\n",
                                     "  applies: [connect_now, select_rows]\n" + NOT_APPLICABLE))
    return root


def outcomes(results: Path) -> dict[str, Any]:
    run = json.loads(results.read_text())
    return {e["id"]: {"outcome": e["outcome"], "reason": e["reason"],
                      # the server's view is sampled (peak backends), so it may differ between two runs
                      "cases": {s["name"]: (s["outcome"], s["message"], s["details"].split("what the server saw")[0],
                                            s["reproduce"])
                                for s in e["scenarios"] if s["name"] in SCENARIOS}}
            for e in run["examples"]}


def test_cli_and_pytest_judge_alike(tmp_path: Path) -> None:
    examples = examples_in(tmp_path)
    env = dict(os.environ, HARNESS_EXAMPLES=str(examples), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(tmp_path), BAD_EXAMPLE_PYTHON=sys.executable)
    cli_out, pytest_out = tmp_path / "cli" / "results.json", tmp_path / "pytest" / "results.json"
    selection = [arg for name in SCENARIOS for arg in ("--scenario", name)]
    cli = subprocess.run([sys.executable, "-m", "harness", "run", *selection, "--out", str(cli_out)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert cli.returncode == 1, cli.stdout[-3000:] + cli.stderr[-3000:]  # the xpass and the toolchain
    plugin = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--harness-out",
                             str(pytest_out), "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
                             "-k", " or ".join(SCENARIOS), str(examples)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert plugin.returncode == 1, plugin.stdout[-3000:] + plugin.stderr[-3000:]

    for results in (cli_out, pytest_out):  # the header's duration and date are the run's own
        run = json.loads(results.read_text())
        assert run["seconds"] > 0 and run["started"] <= run["finished"], run
    by_cli, by_pytest = outcomes(cli_out), outcomes(pytest_out)
    assert by_cli == by_pytest
    known, toolless = by_cli["bad/known"], by_cli["bad/no-toolchain"]
    assert known["cases"]["select_rows"][0] == "xfailed"
    assert known["cases"]["select_rows"][1].startswith("known failure: the driver drops diacritics")
    assert known["cases"]["connect_now"][0] == "xpassed"
    assert known["cases"]["types"][:2] == ("not_applicable", "this example's sample has no typed values")
    assert toolless["cases"]["connect_now"][0] == "failed"
    assert toolless["cases"]["connect_now"][1].startswith("toolchain missing: definitely-not-installed-tool")
    assert toolless["cases"]["select_rows"][0] == "skipped"
    assert toolless["outcome"] == "failed" and toolless["reason"].startswith("toolchain missing: ")
