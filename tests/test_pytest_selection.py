"""`pytest -k/-m` over examples: the collection line counts every item that runs (the lifecycle
probe included), and the n/a lines speak only of the examples the run selected."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support import BAD_EXAMPLES, REPO


def collect(tmp_path: Path, *args: str) -> str:
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "--rootdir", str(REPO),
           "-c", str(REPO / "pyproject.toml"), *args, str(BAD_EXAMPLES)]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def listed_and_counted(stdout: str) -> tuple[list[str], int]:
    ids = [line for line in stdout.splitlines() if "::" in line and not line.startswith("n/a ")]
    count = re.search(r"^(\d+)(?:/\d+)? tests? collected", stdout, re.M)
    assert count, stdout
    return ids, int(count.group(1))


def test_the_probe_is_collected_and_counted_with_the_lifecycle_cases(tmp_path: Path) -> None:
    ids, count = listed_and_counted(collect(tmp_path, "-k", "reference and tls"))
    assert "harness::lifecycle_probe" in ids
    assert count == len(ids) and count > 1


def test_without_a_lifecycle_case_the_probe_is_deselected_and_counted_so(tmp_path: Path) -> None:
    stdout = collect(tmp_path, "-k", "reference and pool")
    ids, count = listed_and_counted(stdout)
    assert "harness::lifecycle_probe" not in ids and count == len(ids) > 0


def test_n_a_lines_name_only_the_selected_examples(tmp_path: Path) -> None:
    assert "n/a bad/pool-leak::connect_now" in collect(tmp_path, "-k", "pool-leak")
    assert "n/a bad/pool-leak" not in collect(tmp_path, "-k", "reference")


def test_a_topology_picked_with_k_is_the_only_one_that_runs(tmp_path: Path) -> None:
    """pytest runs its selected cases as one batch: exactly those, not every topology of --via."""
    out = tmp_path / "results.json"
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(tmp_path), BAD_EXAMPLE_PYTHON=sys.executable)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", str(REPO), "-c",
           str(REPO / "pyproject.toml"), "--via", "direct,pgbouncer-session", "-k", "connect_now and pgbouncer-session",
           "--harness-out", str(out), str(BAD_EXAMPLES / "good" / "reference")]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [(s["name"], s["topology"]) for e in json.loads(out.read_text())["examples"]
           for s in e["scenarios"] if s["outcome"] != "not_applicable"]
    assert ran == [("connect_now", "pgbouncer-session")], ran
