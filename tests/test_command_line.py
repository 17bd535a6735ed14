"""The command line's promises: --out checked (and held) before the run, a TMPDIR with a space,
a one-line message for a too-long socket path, exit codes after pytest's, in-place builds that
take turns, and a version command that hangs reported as a timeout with no child left."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from harness import outputs, toolchain
from harness.build import BuildCache
from harness.manifest import Example, Requirement
from tests.support import BAD_EXAMPLES, REPO, lock_released_within


def harness(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
                    BAD_EXAMPLE_STATE=str(tmp_path), BAD_EXAMPLE_PYTHON=sys.executable, **env)
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=300)


ONE_CASE = ("run", "--example", "good/reference", "--scenario", "connect_now")


def test_out_may_be_a_directory_and_the_reports_go_into_it(tmp_path: Path) -> None:
    ran = harness(tmp_path, *ONE_CASE, "--out", str(tmp_path / "new-dir") + "/")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (tmp_path / "new-dir" / "results.json").is_file()
    assert (tmp_path / "new-dir" / "index.html").is_file()
    assert not (tmp_path / "new-dir" / outputs.LOCK_NAME).exists()


def test_an_unwritable_out_is_refused_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    start = time.monotonic()
    ran = harness(tmp_path, *ONE_CASE, "--out", str(blocker / "results.json"))
    assert ran.returncode == 4, ran.stdout + ran.stderr
    text = " ".join(ran.stdout.split())
    assert f"error: --out: {blocker / 'results.json'}: cannot be written" in text, text
    assert "fix: choose a directory you can write to" in text
    assert time.monotonic() - start < 15  # no server was started for nothing


def test_a_second_run_writing_the_same_out_refuses_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "shared"
    out.mkdir()
    with outputs.OutputLock(out):  # the first run holds it
        ran = harness(tmp_path, *ONE_CASE, "--out", str(out))
    assert ran.returncode == 4, ran.stdout + ran.stderr
    assert f"is being written by another run (pid {os.getpid()})" in " ".join(ran.stdout.split())


def test_a_tmpdir_with_a_space_works(tmp_path: Path) -> None:
    spaced = Path(tempfile.mkdtemp(prefix="harness space "))  # short: the socket path has a limit
    spaced.chmod(0o755)  # the server's account must reach it
    try:
        ran = harness(tmp_path, *ONE_CASE, "--scenario", "tls_verify_full", "--out", str(tmp_path / "out"),
                      TMPDIR=str(spaced))
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert list(spaced.iterdir()) == []
    finally:
        shutil.rmtree(spaced, ignore_errors=True)


def test_a_too_long_socket_path_is_one_line_with_the_fix(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    ran = harness(tmp_path, *ONE_CASE, "--out", str(tmp_path / "out"), TMPDIR=str(deep))
    assert ran.returncode == 4, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    lines = [line for line in ran.stdout.splitlines() if line.strip()]
    assert any(line.startswith("error: TMPDIR: ") and "over the 107-byte limit of Unix sockets" in line for line in lines), lines
    assert any("fix: point TMPDIR at a shorter directory" in line for line in lines), lines


def test_a_version_command_that_hangs_is_a_timeout_and_leaves_no_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toolchain, "VERSION_TIMEOUT_SECONDS", 1.0)
    lock = tmp_path / "version.lock"
    requirement = Requirement(tool="sh", install="apt-get install -y dash",
                              version_command=("sh", "-c", f"flock {lock} sleep 300 & sleep 300"))
    status = toolchain.probe(requirement)
    assert not status.found
    assert "timed out after 1 s" in status.line and "MISSING" not in status.line, status.line
    assert lock_released_within(lock, 5), "the version command's child outlived its timeout"


def test_in_place_builds_take_turns(tmp_path: Path) -> None:
    folder = tmp_path / "lang" / "build"
    folder.mkdir(parents=True)
    busy = tmp_path / "building"
    example = Example(id="lang/build", language="lang", title="t", driver_name="d", driver_version="1",
                      folder=folder, manifest=folder / "example.yaml", run_command="true",
                      build_command=f"mkdir {busy} || exit 9; sleep 0.5; rmdir {busy}")
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(c.build(example, force=True)))
               for c in (BuildCache(tmp_path / "cache-a", os.environ), BuildCache(tmp_path / "cache-b", os.environ))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.ok for r in results] == [True, True], [r.message for r in results]
