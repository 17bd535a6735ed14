"""--keep leaves the server and the case databases up after the run, prints a psql command that
works as it is (the superuser's password in a 0600 passfile, never on the terminal), and Ctrl-C
then removes everything. (A failed test's run is reaped by the isolated_runs fixture.)"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support import BAD_EXAMPLES, IsolatedRuns, dies_within


def test_keep_serves_until_ctrl_c_then_cleans_up(tmp_path: Path, isolated_runs: IsolatedRuns) -> None:
    env = dict(os.environ, HARNESS_EXAMPLES=str(BAD_EXAMPLES), HARNESS_CACHE=str(tmp_path / "cache"),
               BAD_EXAMPLE_STATE=str(tmp_path), BAD_EXAMPLE_PYTHON=sys.executable)
    proc = isolated_runs.start([sys.executable, "-m", "harness", "run", "--keep", "--example", "good/reference",
                                "--scenario", "select_rows", "--out", str(tmp_path / "results.json")], env, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.strip().startswith("PGPASSFILE="):
                break
        hint = lines[-1].strip()
        assert re.match(r"PGPASSFILE=\S+ psql -h ", hint), "".join(lines)
        words = shlex.split(hint)
        passfile = Path(words[0].split("=", 1)[1])
        assert passfile.stat().st_mode & 0o777 == 0o600
        query = subprocess.run([*words[1:], "-At", "-c", "SELECT datname FROM pg_database ORDER BY 1"],
                               env=dict(os.environ, PGPASSFILE=str(passfile)), capture_output=True, text=True,
                               timeout=30)
        assert query.returncode == 0, query.stderr
        assert "db_good_reference_select_rows" in query.stdout.split(), query.stdout
        socket_dir = Path(re.search(r"-h (\S+)", hint).group(1))  # type: ignore[union-attr]
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:  # an assertion failed above: still stop the run the clean way
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert dies_within(proc.pid)
    assert not socket_dir.parent.exists(), f"{socket_dir.parent} is left behind after Ctrl-C"
