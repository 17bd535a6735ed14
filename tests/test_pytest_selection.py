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
    """--collect-only -q over the wrong examples (or the node ids among args)."""
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "--rootdir", str(REPO),
           "-c", str(REPO / "pyproject.toml"), *args]
    if not any("::" in arg for arg in args):
        cmd.append(str(BAD_EXAMPLES))
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def listed_and_counted(stdout: str) -> tuple[list[str], int]:
    ids = [line for line in stdout.splitlines() if "::" in line]
    count = re.search(r"^(\d+)(?:/\d+)? tests? collected", stdout, re.M)
    assert count, stdout
    return ids, int(count.group(1))


def test_the_probe_is_collected_and_counted_with_the_lifecycle_cases(tmp_path: Path) -> None:
    ids, count = listed_and_counted(collect(tmp_path, "-k", "reference and tls"))
    assert any(i.endswith("example.yaml::lifecycle_probe") for i in ids)
    assert count == len(ids) and count > 1


def test_without_a_lifecycle_case_the_probe_is_deselected_and_counted_so(tmp_path: Path) -> None:
    stdout = collect(tmp_path, "-k", "reference and pool")
    ids, count = listed_and_counted(stdout)
    assert not any(i.endswith("::lifecycle_probe") for i in ids) and count == len(ids) > 0


def test_n_a_cases_are_collected_items_with_no_extra_lines(tmp_path: Path) -> None:
    stdout = collect(tmp_path, "-k", "pool-leak")
    assert "tests/bad_examples/bad/pool-leak/example.yaml::connect_now" in stdout   # declared n/a there
    assert not [line for line in stdout.splitlines() if line.startswith("n/a ")]


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               HARNESS_REPORTS=str(tmp_path / "reports"), BAD_EXAMPLE_STATE=str(tmp_path),
               BAD_EXAMPLE_PYTHON=sys.executable)
    cmd = [sys.executable, "-m", "pytest", "-o", f"cache_dir={tmp_path / 'pytest-cache'}", "-q", "-rs",
           "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"), "--remote-rtt-ms", "0", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def _ran(results: Path) -> list[tuple[str, str, str]]:
    return sorted((e["id"], s["name"], s["outcome"]) for e in json.loads(results.read_text())["examples"]
                  for s in e["scenarios"] if s["outcome"] != "not_applicable")


def test_lf_after_two_failures_runs_those_two_cases_only(tmp_path: Path) -> None:
    folders = [str(BAD_EXAMPLES / f) for f in ("good/reference", "bad/crash", "bad/wrong-output")]
    first = _pytest(tmp_path, "-k", "connect_now or select_rows or param_query", *folders)
    assert first.returncode == 1, first.stdout + first.stderr
    again = _pytest(tmp_path, "--lf", *folders)
    assert again.returncode == 1, again.stdout + again.stderr
    # the harness's own record of what ran (a subset: reports/subset/, the full reports/ untouched)
    assert _ran(tmp_path / "reports" / "subset" / "results.json") == [
        ("bad/crash", "connect_now", "failed"), ("bad/wrong-output", "select_rows", "failed")]
    assert not (tmp_path / "reports" / "results.json").exists()


def test_a_printed_node_id_pasted_back_selects_exactly_that_case(tmp_path: Path) -> None:
    ids, _ = listed_and_counted(collect(tmp_path, "-k", "reference"))
    case = next(i for i in ids if i.endswith("::pool_release"))   # pool_release_on_error exists too
    assert listed_and_counted(collect(tmp_path, case))[0] == [case]
    pooled, _ = listed_and_counted(collect(tmp_path, "--via", "direct,pgbouncer-session", "-k", "reference"))
    one = next(i for i in pooled if i.endswith("::connect_now[pgbouncer-session]"))
    assert listed_and_counted(collect(tmp_path, "--via", "direct,pgbouncer-session", one))[0] == [one]
    assert listed_and_counted(collect(tmp_path, "--via", "direct,pgbouncer-session", "-k",
                                      "reference and connect_now[pgbouncer-session]"))[0] == [one]
    select_rows = next(i for i in ids if i.endswith("::select_rows"))
    left, _ = listed_and_counted(collect(tmp_path, "-k", "reference", "--deselect", select_rows))
    assert set(ids) - set(left) == {select_rows}


def test_a_not_applicable_case_is_a_skip_at_its_manifest_line(tmp_path: Path) -> None:
    manifest = BAD_EXAMPLES / "bad" / "pool-leak" / "example.yaml"
    line = next(n for n, text in enumerate(manifest.read_text().splitlines(), 1) if "connect_now:" in text)
    done = _pytest(tmp_path, f"{manifest.relative_to(REPO)}::connect_now")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SKIPPED [1] tests/bad_examples/bad/pool-leak/example.yaml:{line}: not applicable:" in done.stdout


def test_each_marker_is_registered_once(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--markers", "--rootdir",
                           str(REPO), "-c", str(REPO / "pyproject.toml")], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    names = re.findall(r"^@pytest\.mark\.(\w+)", done.stdout, re.M)
    assert "node" in names and "pool" in names
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


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
