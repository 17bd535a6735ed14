"""The pooled topologies on the docker backend: PgBouncer in a container of its own (labelled with
the run, built from harness/pooler/image/Dockerfile, or image-1.24/ for PgBouncer 1.24.1, and
reused while it is unchanged), the
examples' containers reaching it on loopback, a driver fix's files reaching the example's
container, and nothing of the run left after its close or a SIGKILL (a Ctrl-C:
tests/test_docker_backend.py).

Like tests/test_docker_backend.py these need a Docker engine and the base images (Docker Hub or
ci/standin-images.sh's stand-ins); without an engine they fail with the reason unless
HARNESS_SKIP_DOCKER_TESTS=1 says to skip them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from harness import reaper
from harness.backends.docker import DockerExecutor
from harness.case.pipeline import run_case
from harness.outcome import Outcome
from harness.pooler.container import ContainerProcess, ensure_image
from harness.pooler.fixes import FIX_DIR_VARIABLE, FIX_NAMES_VARIABLE
from harness.server.container import ROLE_LABEL, RUN_LABEL
from harness.session import HarnessSession
from tests.support import REPO, config_for
from tests.test_docker_backend import example_of, labelled, require_docker

POOLED = "pgbouncer-transaction"
POOLED_1_24 = "pgbouncer-1.24-transaction"


def test_a_pooled_case_runs_through_a_pgbouncer_container_and_nothing_is_left(tmp_path: Path) -> None:
    require_docker()
    session = HarnessSession(replace(config_for(REPO / "examples", tmp_path, backend="docker"), via=(POOLED,)))
    example = example_of(session, "python/psycopg2")
    try:
        # Twice: the auth_file is synced and RELOADed before each case (each makes its role anew).
        for scenario in ("connect_now", "param_query"):
            result = run_case(session, example, scenario, POOLED)
            assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
        pooler = session.poolers.running()[POOLED]
        assert isinstance(pooler.process, ContainerProcess)
        containers, _ = labelled(session.run_id, f"{ROLE_LABEL}=pgbouncer")
        assert containers == [pooler.process.name]
        # The example went through it: PgBouncer's log (written in the container, read on the
        # host) has the logins of the example's roles, and its console answers the harness.
        log = pooler.log_path.read_text()
        assert log.count("login attempt: db=") >= 2, log[-2000:]
        assert pooler.console.show("VERSION")
        assert session.pooler_version == pooler.process.version() != ""
        root = pooler.root
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers or networks of the run are left behind"
    assert root is not None and not root.exists(), f"{root} is left behind"


def test_the_image_is_built_once_and_then_reused(tmp_path: Path) -> None:
    require_docker()
    tag, _cold = ensure_image(tmp_path / "build.log", 600)
    again, seconds = ensure_image(tmp_path / "again.log", 600)
    assert again == tag and seconds == 0.0
    assert not (tmp_path / "again.log").exists(), "a warm image was built again"
    version = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, "--version"],
                             capture_output=True, text=True, check=True).stdout
    assert version.startswith("PgBouncer 1.")


def test_pgbouncer_1_24_runs_in_a_container_of_its_own_image_with_its_settings(tmp_path: Path) -> None:
    """--backend docker --via pgbouncer-1.24-*: the image built from the pinned orig tarball, and
    max_prepared_statements reaching the container: node-postgres' named statement, which fails
    through 1.18 in transaction mode (spec/pgbouncer.yaml), passes through it."""
    require_docker()
    tag, _cold = ensure_image(tmp_path / "build.log", 900, version="1.24")
    assert tag.startswith("pg-sample-harness/pgbouncer-1.24:")
    version = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, "--version"],
                             capture_output=True, text=True, check=True).stdout
    assert version.startswith("PgBouncer 1.24.1"), version
    session = HarnessSession(replace(config_for(REPO / "examples", tmp_path, backend="docker"), via=(POOLED_1_24,)))
    example = example_of(session, "node/pg-pool")
    try:
        result = run_case(session, example, "prepared_statement_reuse", POOLED_1_24)
        assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
        pooler = session.poolers.running()[POOLED_1_24]
        assert isinstance(pooler.process, ContainerProcess) and pooler.process.version().startswith("1.24.1")
        assert "max_prepared_statements = 200" in (pooler.root / "pgbouncer.ini").read_text()
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers or networks of the run are left behind"


def test_a_driver_fixs_files_and_variables_reach_the_examples_container(tmp_path: Path) -> None:
    """The fix's dir is mounted where its variables name it, and its variables are passed (not
    only PG*/HARNESS_* ones); nothing else of the host's environment is."""
    session = HarnessSession(config_for(REPO / "examples", tmp_path, backend="docker"))
    example = example_of(session, "java/hikaricp")
    fix_dir = tmp_path / "fix"
    fix_dir.mkdir()
    env = {"PGHOST": "127.0.0.1", "HOME": "/root", "JAVA_TOOL_OPTIONS": f"-Dx={fix_dir}/x",
           FIX_DIR_VARIABLE: str(fix_dir), FIX_NAMES_VARIABLE: "JAVA_TOOL_OPTIONS"}
    executor = DockerExecutor(session.config)
    try:
        launch = executor.launch(example, env, "java/hikaricp::transaction")
        assert launch.confine is not None
        command = launch.confine.wrap(list(launch.command))
        passed = [command[i + 1] for i, word in enumerate(command) if word == "-e"]
        assert "JAVA_TOOL_OPTIONS" in passed and "PGHOST" in passed and "HOME" not in passed
        assert str(fix_dir) in executor._leases["java/hikaricp::transaction"].container.key[2]  # its lane mounts it
    finally:
        executor.cleanup()


def _start_pooled_run(run_id: str, tmp_path: Path, parent: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, HARNESS_RUN_ID=run_id, HARNESS_CACHE=str(REPO / ".harness"), TMPDIR=str(parent))
    return subprocess.Popen([sys.executable, "-m", "harness", "run", "--backend", "docker", "--via", "pgbouncer-session",
                             "--example", "java/hikaricp", "--scenario", "pool_idle_timeout",
                             "--out", str(tmp_path / "out" / "results.json")],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for_example(proc: subprocess.Popen[str], run_id: str) -> None:
    """Until the example's container runs (the run's PgBouncer container is up by then)."""
    deadline = time.monotonic() + 300
    while not labelled(run_id, f"{ROLE_LABEL}=example")[0]:
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the example's container never appeared"
        time.sleep(0.2)
    assert labelled(run_id, f"{ROLE_LABEL}=pgbouncer")[0], "no PgBouncer container for the pooled case"


def test_the_reaper_removes_the_pgbouncer_container_of_a_run_killed_outright(tmp_path: Path) -> None:
    require_docker()
    run_id = f"pbd-killed-{secrets.token_hex(4)}"
    parent = Path(tempfile.mkdtemp(prefix="harness-pbd-reaper-"))
    parent.chmod(0o755)   # the pooler's dir inside belongs to the `postgres` account when run as root
    proc = _start_pooled_run(run_id, tmp_path, parent)
    try:
        _wait_for_example(proc, run_id)
        pooler_dirs = [d for d in parent.iterdir() if "pgbouncer-" in d.name]
        assert len(pooler_dirs) == 1 and (pooler_dirs[0] / reaper.OWNER_FILE).exists(), list(parent.iterdir())
        proc.kill()
        proc.wait()
        assert labelled(run_id, f"{ROLE_LABEL}=pgbouncer")[0], "the killed run's PgBouncer container is already gone"
        reaped = "\n".join(reaper.reap_dead_runs(parent))
        assert str(pooler_dirs[0]) in reaped, reaped
        assert labelled(run_id) == ([], []), reaped
        assert list(parent.iterdir()) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={RUN_LABEL}={run_id}"],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["rm", "-rf", str(parent)], check=False)
