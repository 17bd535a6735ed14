"""pytest-xdist: each worker runs its own server; the controller writes one results.json with
every case, the same verdicts as a serial run (here: two wrong examples and the reference)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import BAD_EXAMPLES, REPO


def test_xdist_workers_results_reach_one_results_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(tmp_path), BAD_EXAMPLE_PYTHON=sys.executable)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-q", "--harness-out", str(out),
           "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
           # a few cases of each, spread over both workers (the reference's stories add nothing here)
           "-k", "connect_now or select_rows or pool_bounded or transaction or param_query",
           str(BAD_EXAMPLES / "good" / "reference"), str(BAD_EXAMPLES / "bad" / "wrong-output"),
           str(BAD_EXAMPLES / "bad" / "crash")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the wrong examples fail
    run = json.loads(out.read_text())
    assert run["postgres"], "the controller must learn the server version from the workers"
    cases = {f"{e['id']}::{s['name']}": s["outcome"] for e in run["examples"] for s in e["scenarios"]}
    assert cases["bad/wrong-output::select_rows"] == "failed"
    assert cases["bad/crash::connect_now"] == "failed"
    assert cases["good/reference::pool_bounded"] == "passed"
    assert cases["good/reference::connect_now"] == "passed"
    assert "2 failed" in proc.stdout
