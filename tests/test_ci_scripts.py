"""The CI scripts' control flow, with every tool they call replaced by a stub in a copy of the
tree: .ci/run runs every leg even when the docker leg fails, prints each summary and exits
non-zero at the end; ci/test.sh skips the docker tests with the reason where Docker cannot run,
and runs them where it can."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support import REPO


def _tree(tmp_path: Path, engine_ok: bool, docker_pytest_rc: int) -> Path:
    root = tmp_path / "clone"
    (root / "ci").mkdir(parents=True)
    (root / ".ci").mkdir()
    (root / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", root / ".ci" / "run")
    shutil.copy(REPO / "ci" / "test.sh", root / "ci" / "test.sh")
    log = root / "calls.log"
    stubs = {
        "setup.sh": "exit 0",
        "docker-engine.sh": "echo 'docker-engine: ERROR: no engine here' >&2; exit 1" if not engine_ok else "exit 0",
        "standin-images.sh": "exit 0",
        "actionlint.sh": "exit 0",
        "check-generated.sh": "exit 0",
        "venv.sh": "exit 0",
    }
    for name, body in stubs.items():
        (root / "ci" / name).write_text(f"echo {name} >> {log}\n{body}\n")
    (root / ".venv" / "bin" / "python").write_text(
        "#!/bin/bash\n"
        f'echo "python $* SKIP=${{HARNESS_SKIP_DOCKER_TESTS:-}} WHY=${{HARNESS_DOCKER_UNAVAILABLE:-}}" >> {log}\n'
        'case "$*" in\n'
        f'  *"--backend docker"*) echo "=== 1 failed, 5 passed in 1.0s ==="; exit {docker_pytest_rc} ;;\n'
        "  *) echo '=== 9 passed ==='; exit 0 ;;\n"
        "esac\n")
    (root / ".venv" / "bin" / "python").chmod(0o755)
    return root


def _run(root: Path, script: str) -> tuple[int, str, str]:
    done = subprocess.run(["bash", script], cwd=root, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")})
    return done.returncode, done.stdout + done.stderr, (root / "calls.log").read_text()


def test_a_failing_docker_leg_still_prints_its_summary_and_the_other_legs_run(tmp_path: Path) -> None:
    root = _tree(tmp_path, engine_ok=True, docker_pytest_rc=1)
    code, output, calls = _run(root, ".ci/run")
    assert code != 0, output
    assert "docker backend: 1 failed, 5 passed in 1.0s (exit 1)" in output, output
    assert "actionlint.sh" in calls and "python -m pytest -rs examples" in calls, calls
    workers = min(8, 2 * (os.cpu_count() or 1))
    assert f"python -m pytest -rs --durations=10 -n {workers} --dist worksteal tests" in calls, calls   # the harness's own tests on xdist workers
    assert "native: 9 passed; then 9 passed" in output, output
    assert output.rstrip().endswith("FAILED legs: docker backend"), output


def test_without_an_engine_the_docker_leg_is_not_run_and_the_tests_skip_with_the_reason(tmp_path: Path) -> None:
    root = _tree(tmp_path, engine_ok=False, docker_pytest_rc=0)
    code, output, calls = _run(root, ".ci/run")
    assert "docker backend: NOT RUN: the Docker engine cannot run here" in output, output
    assert "--backend docker" not in calls
    assert "tests SKIP=1 WHY=the Docker engine cannot run here" in calls, calls
    assert code == 0, output  # a machine without Docker is not a failure, and is said


def test_ci_test_sh_sets_up_docker_or_skips_its_tests_with_the_reason(tmp_path: Path) -> None:
    root = _tree(tmp_path, engine_ok=True, docker_pytest_rc=0)
    code, output, calls = _run(root, "ci/test.sh")
    assert code == 0, output
    assert calls.splitlines()[0] == "setup.sh" and {"docker-engine.sh", "standin-images.sh"} <= set(calls.splitlines()), calls
    assert "SKIP= WHY=" in calls  # the docker tests run
    root = _tree(tmp_path / "no-engine", engine_ok=False, docker_pytest_rc=0)
    code, output, calls = _run(root, "ci/test.sh")
    assert code == 0, output
    assert "test: docker tests will be SKIPPED: the Docker engine cannot run on this machine" in output
    assert "SKIP=1 WHY=the Docker engine cannot run on this machine" in calls, calls


def test_gh_driver_runs_its_leg_and_a_docker_leg_without_an_engine_is_not_run(tmp_path: Path) -> None:
    """The workflow's leg step: the leg's `harness run` arguments come from discovery; a docker leg
    on a runner without an engine fails, saying NOT RUN and why, and runs nothing."""
    root = _tree(tmp_path, engine_ok=True, docker_pytest_rc=0)
    shutil.copy(REPO / "ci" / "gh-driver.sh", root / "ci" / "gh-driver.sh")
    (root / ".venv" / "bin" / "python").write_text(
        "#!/bin/bash\n"
        f'echo "python $*" >> {root / "calls.log"}\n'
        'case "$*" in\n'
        '  *leg-arguments*) exec ' + str(REPO / ".venv" / "bin" / "python") + ' "$@" ;;\n'
        '  *"harness run"*) mkdir -p reports; echo "{}" > reports/results.json ;;\n'
        "esac\n")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for tool in ("docker", "apt-get", "dpkg-query"):   # no engine; every package "installed"
        (bin_dir / tool).write_text("#!/bin/bash\n" + ("exit 1\n" if tool == "docker" else
                                    "echo 'install ok installed'\n"))
        (bin_dir / tool).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(["bash", "ci/gh-driver.sh", "node/x", "pgbouncer-transaction"], cwd=root,
                          capture_output=True, text=True, timeout=60, env=env)
    calls = (root / "calls.log").read_text()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "python -m harness run --example node/x --via pgbouncer-transaction" in calls, calls
    assert (root / "reports" / "leg.json").read_text().strip() == '{"example": "node/x", "leg": "pgbouncer-transaction"}'
    assert "pgbouncer-1.24.sh" not in calls   # a 1.18 leg builds nothing
    (root / "calls.log").write_text("")
    (root / "ci" / "pgbouncer-1.24.sh").write_text(f"echo pgbouncer-1.24.sh >> {root / 'calls.log'}\n")
    done = subprocess.run(["bash", "ci/gh-driver.sh", "node/x", "pgbouncer-1.24-transaction"], cwd=root,
                          capture_output=True, text=True, timeout=60, env=env)
    calls = (root / "calls.log").read_text().splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    built = calls.index("pgbouncer-1.24.sh")   # PgBouncer 1.24.1 is built before the run that uses it
    assert built < calls.index("python -m harness run --example node/x --via pgbouncer-1.24-transaction"), calls
    (root / "calls.log").write_text("")
    done = subprocess.run(["bash", "ci/gh-driver.sh", "node/x", "docker"], cwd=root,
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1
    assert "docker leg: NOT RUN: no Docker engine answers 'docker info'" in done.stderr
    assert "harness run" not in (root / "calls.log").read_text()


def test_gh_pages_gives_each_driver_one_badge_over_its_legs_naming_the_failed_ones(tmp_path: Path) -> None:
    """ci/gh-pages.sh for real on per-leg artifacts: the direct and pooled legs passed, the docker
    leg failed a case and the pgbouncer-session leg left no results.json."""
    import json

    def case(name: str, outcome: str, topology: str = "direct") -> dict[str, object]:
        return {"name": name, "outcome": outcome, "topology": topology, "message": outcome}

    def leg(leg: str, cases: list[dict[str, object]] | None) -> None:
        folder = tmp_path / "artifacts" / f"reports-node-x--{leg}"
        folder.mkdir(parents=True)
        (folder / "leg.json").write_text(json.dumps({"example": "node/x", "leg": leg}))
        if cases is not None:
            outcome = "failed" if any(c["outcome"] == "failed" for c in cases) else "passed"
            run = {"schema": 1, "backend": "docker" if leg == "docker" else "native", "errors": [],
                   "topologies": [leg if leg.startswith("pgbouncer") else "direct"],
                   "examples": [{"id": "node/x", "outcome": outcome, "scenarios": cases}]}
            (folder / "results.json").write_text(json.dumps(run))

    leg("direct", [case("connect", "passed")])
    leg("pgbouncer-transaction", [case("connect", "passed", "pgbouncer-transaction")])
    leg("docker", [case("connect", "failed")])
    leg("pgbouncer-session", None)
    done = subprocess.run(["bash", str(REPO / "ci" / "gh-pages.sh"), str(tmp_path / "artifacts"), str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    badge = json.loads((tmp_path / "site" / "badges" / "node-x.json").read_text())
    assert badge["color"] == "red" and badge["message"] == "failing: docker, pgbouncer-session", badge
    merged = json.loads((tmp_path / "site" / "results.json").read_text())
    assert any("pgbouncer-session" in error and "no results.json" in error for error in merged["errors"]), merged["errors"]
    # Every leg passing: the badge counts the cases of all legs.
    (tmp_path / "artifacts" / "reports-node-x--pgbouncer-session").rename(tmp_path / "gone")
    (tmp_path / "artifacts" / "reports-node-x--docker" / "results.json").write_text(json.dumps(
        {"schema": 1, "errors": [], "examples": [{"id": "node/x", "outcome": "passed", "scenarios": [case("connect", "passed")]}]}))
    done = subprocess.run(["bash", str(REPO / "ci" / "gh-pages.sh"), str(tmp_path / "artifacts"), str(tmp_path / "site")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    badge = json.loads((tmp_path / "site" / "badges" / "node-x.json").read_text())
    assert (badge["color"], badge["message"]) == ("brightgreen", "3/3 passing"), badge
