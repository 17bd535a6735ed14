"""Every hostile example in one real run (two at a time): the run ends, each fails for its own
reason, and the harness reports nothing of the run left; the test checks that it is true."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support import BAD_EXAMPLES, REPO, lock_released_within


def test_an_adversarial_run_leaves_nothing(tmp_path: Path) -> None:
    parent = Path(tempfile.mkdtemp(prefix="harness-adversarial-"))
    parent.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    (state / "intruder-targets.json").write_text(json.dumps({"victim_role": "ex_nobody", "sockets": []}))
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(state), BAD_EXAMPLE_PYTHON=sys.executable, TMPDIR=str(parent))
    try:
        ran = subprocess.run([sys.executable, "-m", "harness", "run", "--example", "hostile/*", "-j", "2",
                              "--out", str(tmp_path / "out") + "/"], cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=600)
        text = ran.stdout + ran.stderr
        assert ran.returncode == 1, text  # cases failed; nothing crashed
        results = json.loads((tmp_path / "out" / "results.json").read_text())
        outcomes = {e["id"]: {s["name"]: s["outcome"] for s in e["scenarios"]} for e in results["examples"]}
        assert outcomes["hostile/daemon"]["connect_now"] == "failed"
        assert outcomes["hostile/backend-leaver"]["connect_now"] == "failed"
        assert outcomes["hostile/stdin-flood"]["connect_now"] == "failed"
        assert "clean-up: nothing of this run is left" in text, text
        assert list(parent.iterdir()) == [], list(parent.iterdir())
        assert lock_released_within(state / "daemon.lock")
        assert "\x1b[2J" not in text
    finally:
        shutil.rmtree(parent, ignore_errors=True)
