"""A fork passes `python -m harness.badge_block --check` with the README as generated upstream,
and regenerating points every badge at the fork's own GitHub Pages site (its `origin`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import REPO


def test_a_fork_with_another_origin_passes_the_check_and_regenerates_its_own_site(tmp_path: Path) -> None:
    fork = tmp_path / "fork"
    subprocess.run(["git", "clone", "-q", str(REPO), str(fork)], check=True, timeout=120)
    subprocess.run(["git", "-C", str(fork), "remote", "set-url", "origin", "git@github.com:Someone/fork-name.git"],
                   check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "GITHUB_"))}
    command = [sys.executable, "-m", "harness.badge_block"]   # cwd first on sys.path: the fork's own harness
    check = subprocess.run([*command, "--check"], cwd=fork, env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "this repository's site is https://someone.github.io/fork-name/" in check.stdout
    assert subprocess.run(command, cwd=fork, env=env, capture_output=True, text=True, timeout=120).returncode == 0
    readme = (fork / "README.md").read_text(encoding="utf-8")
    assert "https%3A%2F%2Fsomeone.github.io%2Ffork-name%2Fbadges%2Foverall.json" in readme
    assert "OWNER.github.io" not in readme
    again = subprocess.run([*command, "--check"], cwd=fork, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "up to date" in again.stdout, again.stdout + again.stderr
