"""The docker backend end to end: PostgreSQL in a container (testcontainers), the example built
from its Dockerfile, each case exec'd into its kept container, and nothing labelled with the run left afterwards.

These tests need a Docker engine and the base images the examples name (from Docker Hub, or the
local stand-ins of ci/standin-images.sh); ci/test.sh sets both up. Where Docker cannot run at
all, ci/test.sh sets HARNESS_SKIP_DOCKER_TESTS=1 and HARNESS_DOCKER_UNAVAILABLE=<why>, and they
are SKIPPED with that reason in the summary. Run by hand without an engine they FAIL with the
reason, so a machine that cannot run the docker leg never passes quietly."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.case.pipeline import run_case
from harness.outcome import Outcome
from harness.runner import run_matrix
from harness.server.container import ROLE_LABEL, RUN_LABEL, engine_problem
from harness.session import HarnessSession
from tests.support import BAD_EXAMPLES, REPO, IsolatedRuns, config_for

SKIP_ENV = "HARNESS_SKIP_DOCKER_TESTS"


def require_docker() -> None:
    """Skip only when told to; without an engine, the test FAILS with the reason."""
    if os.environ.get(SKIP_ENV) == "1":
        why = os.environ.get("HARNESS_DOCKER_UNAVAILABLE") or f"{SKIP_ENV}=1"
        pytest.skip(f"docker backend not tested: {why}")
    problem = engine_problem()
    if problem:
        pytest.fail(f"the docker backend cannot be tested here: {problem}\n"
                    f"(bash ci/test.sh sets the engine up; set {SKIP_ENV}=1 to skip the docker tests explicitly)",
                    pytrace=False)


def labelled(run_id: str, *extra: str) -> tuple[list[str], list[str]]:
    """Names of the containers and networks that carry the run's label (and the extra labels)."""
    filters = ["--filter", f"label={RUN_LABEL}={run_id}"]
    for label in extra:
        filters += ["--filter", f"label={label}"]
    containers = subprocess.run(["docker", "ps", "-a", *filters, "--format", "{{.Names}}"],
                                capture_output=True, text=True, check=True).stdout.split()
    networks = subprocess.run(["docker", "network", "ls", *filters, "--format", "{{.Name}}"],
                              capture_output=True, text=True, check=True).stdout.split()
    return containers, networks


def session_for(examples: Path, tmp_path: Path) -> HarnessSession:
    return HarnessSession(config_for(examples, tmp_path, backend="docker"))


def example_of(session: HarnessSession, example_id: str):  # noqa: ANN201 - harness.manifest.Example
    for example in session.examples:
        if example.id == example_id:
            return example
    raise AssertionError(f"{example_id} not discovered: {[e.render() for e in session.catalog.discovery.errors]}")


@pytest.fixture
def hanging_example(tmp_path: Path) -> Iterator[Path]:
    """An example that never answers and ignores SIGTERM: its container outlives the killed
    `docker run` client unless the executor removes it."""
    folder = tmp_path / "examples" / "dockertest" / "hang"
    folder.mkdir(parents=True)
    (folder / "example.yaml").write_text(textwrap.dedent("""\
        id: dockertest/hang
        language: dockertest
        title: "deliberately wrong: hangs and ignores SIGTERM"
        driver: {name: none, version: "0"}
        run:
          command: [python3, main.py]
          timeout_seconds: 3
        docker: {dockerfile: Dockerfile}
        scenarios:
          applies: [connect_now]
        """))
    (folder / "main.py").write_text(textwrap.dedent("""\
        import signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("hanging on purpose", file=sys.stderr, flush=True)
        while True:
            time.sleep(1)
        """))
    (folder / "Dockerfile").write_text(textwrap.dedent("""\
        FROM python:3.11-slim-bookworm
        WORKDIR /app
        COPY main.py .
        CMD ["python3", "main.py"]
        """))
    yield folder.parent.parent
    # The image is this test's own: it does not stay in the example image cache.
    tags = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "pg-sample-harness/dockertest-hang"],
                          capture_output=True, text=True).stdout.split()
    if tags:
        subprocess.run(["docker", "image", "rm", *tags], capture_output=True)


def test_one_case_on_docker_then_nothing_of_the_run_is_left(tmp_path: Path) -> None:
    require_docker()
    session = session_for(REPO / "examples", tmp_path)
    example = example_of(session, "python/psycopg2")
    try:
        run = run_matrix(session, [(example, ["connect_now"])])
        case = run.examples[0].scenarios[0]
        assert case.outcome is Outcome.PASSED, case.failure.render() if case.failure else case.message
        assert run.to_json()["backend"] == "docker"
        build = session.builds[example.id]
        assert build.ok, build.log_tail()
        # The label is really on what the run made: the server container is up until close().
        containers, _ = labelled(session.run_id, f"{ROLE_LABEL}=server")
        assert len(containers) == 1, containers
        tag = session.executor._tags[example.id]  # type: ignore[attr-defined]
        label = subprocess.run(["docker", "image", "inspect", "--format",
                                '{{index .Config.Labels "harness.build.source_hash"}}', tag],
                               capture_output=True, text=True, check=True).stdout.strip()
        assert label == build.source_hash
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers or networks of the run are left behind"


def test_a_timed_out_case_leaves_no_container(hanging_example: Path, tmp_path: Path) -> None:
    require_docker()
    session = session_for(hanging_example, tmp_path)
    example = example_of(session, "dockertest/hang")
    try:
        result = run_case(session, example, "connect_now")
        assert result.outcome is Outcome.FAILED
        assert "timed out after 3 s" in result.message, result.message
        # Right after the case, before the session closes: its container is gone already.
        assert labelled(session.run_id, f"{ROLE_LABEL}=example") == ([], [])
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers or networks of the run are left behind"


@pytest.mark.parametrize("via", ["direct", "pgbouncer-session"])
def test_ctrl_c_during_a_docker_case_leaves_no_container(via: str, tmp_path: Path,
                                                        isolated_runs: IsolatedRuns) -> None:
    """SIGINT while an example's container runs (pooled: behind the run's PgBouncer container):
    the CLI exits 2 and nothing of the run is left. (A failed test's run is reaped at teardown.)"""
    require_docker()
    import signal
    import sys
    import time

    import secrets

    run_id = f"ctrl-c-test-{secrets.token_hex(4)}"
    env = dict(os.environ, HARNESS_CACHE=str(REPO / ".harness"), HARNESS_RUN_ID=run_id)
    proc = isolated_runs.start([sys.executable, "-m", "harness", "run", "--backend", "docker", "--example",
                                "java/hikaricp", "--scenario", "pool_idle_timeout", "--via", via,
                                "--out", str(tmp_path / "results.json")], env, text=True)
    run_ids: set[str] = set()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not run_ids:
        out = subprocess.run(["docker", "ps", "--filter", f"label={ROLE_LABEL}=example",
                              "--filter", f"label={RUN_LABEL}={run_id}", "--format",
                              f'{{{{.Label "{RUN_LABEL}"}}}} {{{{.Names}}}}'],
                             capture_output=True, text=True, check=True).stdout.split("\n")
        run_ids = {line.split()[0] for line in out if "java-hikaricp" in line}
        time.sleep(0.2)
    assert run_ids, "the example's container never appeared"
    if via != "direct":
        assert labelled(run_id, f"{ROLE_LABEL}=pgbouncer")[0], "no PgBouncer container for the pooled case"
    proc.send_signal(signal.SIGINT)
    output = isolated_runs.finish(proc)
    assert proc.returncode == 2, output  # interrupted
    for run_id in run_ids:
        assert labelled(run_id) == ([], []), f"containers or networks of run {run_id} are left after Ctrl-C"


def test_the_next_run_removes_the_containers_of_a_run_killed_outright(tmp_path: Path) -> None:
    """A docker run killed with SIGKILL leaves its labelled containers and its temp dir (with
    owner.json naming the run id); the reaper removes both once the owner is dead."""
    require_docker()
    import json
    import tempfile

    from harness import reaper
    from harness.config import build_config

    parent = Path(tempfile.mkdtemp(prefix="harness-docker-reaper-"))
    run_id = f"dead-run-{os.getpid()}"
    gone = subprocess.Popen(["true"])
    gone.wait()
    run_dir = parent / f"{reaper.RUN_PREFIX}tls-dead"
    run_dir.mkdir()
    (run_dir / reaper.OWNER_FILE).write_text(json.dumps({"pid": gone.pid, "start": 1, "run_id": run_id}))
    subprocess.run(["docker", "run", "-d", "--name", f"pgsh-{run_id}", "--label", f"{RUN_LABEL}={run_id}",
                    "--entrypoint", "sleep", build_config().postgres_image, "300"], check=True, capture_output=True)
    try:
        reaped = "\n".join(reaper.reap_dead_runs(parent))
        assert "container " in reaped and str(run_dir) in reaped, reaped
        assert labelled(run_id) == ([], [])
        assert list(parent.iterdir()) == []
    finally:
        subprocess.run(["docker", "rm", "-f", f"pgsh-{run_id}"], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def own_example(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A copy of python/psycopg2 under an id (and so an image repository) of this test's own, so
    that removing its image touches no image another run on this engine uses."""
    import secrets

    example_id = f"python/prunetest{secrets.token_hex(3)}"
    examples = tmp_path / "examples"
    shutil.copytree(REPO / "examples" / "python" / "psycopg2", examples / example_id,
                    ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    manifest = examples / example_id / "example.yaml"
    manifest.write_text(manifest.read_text().replace("id: python/psycopg2", f"id: {example_id}", 1))
    yield examples, example_id
    repository = f"pg-sample-harness/{example_id.replace('/', '-')}"
    images = subprocess.run(["docker", "images", "-q", "--no-trunc", repository],
                            capture_output=True, text=True).stdout.split()
    images += [line.split()[0] for line in (tmp_path / "image-ids").read_text().splitlines()] \
        if (tmp_path / "image-ids").exists() else []
    for image in set(images):
        subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)


def _image_id(reference: str) -> str:
    inspected = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", reference],
                               capture_output=True, text=True)
    return inspected.stdout.strip() if inspected.returncode == 0 else ""


def test_a_live_runs_image_survives_other_runs_pruning_and_a_forced_removal(own_example: tuple[Path, str],
                                                                          tmp_path: Path) -> None:
    """Runs from other checkouts prune this engine's example images (each keeps its newest few):
    an image a live run uses is held, so a plain removal is refused; one removed by force between
    the build and a case is built again, and the case runs."""
    require_docker()
    examples, example_id = own_example
    session = session_for(examples, tmp_path)
    example = example_of(session, example_id)
    try:
        session.prepare_example(example)
        build = session.builds[example.id]
        assert build.ok, build.log_tail()
        tag = session.executor._tags[example.id]  # type: ignore[attr-defined]
        built = _image_id(tag)
        (tmp_path / "image-ids").write_text(built + "\n")
        # What another run's drop_older_images does: a plain removal. Refused: the run holds it.
        refused = subprocess.run(["docker", "image", "rm", tag], capture_output=True, text=True)
        assert refused.returncode != 0 and "is using its referenced image" in refused.stderr, refused.stderr
        assert _image_id(tag) == built
        # A forced removal takes it all the same; the next case builds it again and runs.
        subprocess.run(["docker", "image", "rm", "-f", tag], check=True, capture_output=True)
        assert _image_id(built) == ""
        result = run_case(session, example, "connect_now")
        assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
        rebuilt = _image_id(tag)
        assert rebuilt and rebuilt != built
        with (tmp_path / "image-ids").open("a") as ids:
            ids.write(rebuilt + "\n")
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers (the image holders too) or networks are left behind"


@pytest.fixture
def docker_bad_examples() -> Iterator[Path]:
    """tests/bad_examples as a run's examples; the images of its docker examples go afterwards."""
    yield BAD_EXAMPLES
    for repository in ("pg-sample-harness/bad-container-leftover", "pg-sample-harness/hostile-container-escape"):
        tags = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", repository],
                              capture_output=True, text=True).stdout.split()
        if tags:
            subprocess.run(["docker", "image", "rm", *tags], capture_output=True)


def _example_containers(run_id: str) -> set[str]:
    return set(labelled(run_id, f"{ROLE_LABEL}=example")[0])


def test_a_process_left_in_the_container_fails_its_case_and_the_next_case_gets_a_new_one(
        docker_bad_examples: Path, tmp_path: Path) -> None:
    """bad/container-leftover leaves `sleep 3131` in a session of its own: the case fails naming
    it, its container is removed with it, and the next case runs in a new container (where only
    its own `sleep` is found: nothing of the first case was there)."""
    require_docker()
    session = session_for(docker_bad_examples, tmp_path)
    example = example_of(session, "bad/container-leftover")
    try:
        first = run_case(session, example, "connect_now")
        assert first.outcome is Outcome.FAILED
        text = first.failure.render() if first.failure else first.message
        assert "left 1 process(es) running" in text and "sleep 3131" in text, text
        assert _example_containers(session.run_id) == set(), "the container with the leftover was kept"
        second = run_case(session, example, "select_rows")
        text = second.failure.render() if second.failure else second.message
        assert "left 1 process(es) running" in text and "sleep 3131" in text, text
        assert session.executor._containers.started == 2  # type: ignore[attr-defined]
        assert first.stderr.split("cgroup:")[1].split()[0] != second.stderr.split("cgroup:")[1].split()[0]
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers or networks of the run are left behind"


def test_cases_of_a_clean_example_share_its_kept_container(tmp_path: Path) -> None:
    """A well-behaved example's cases are exec'd one after the other into one kept container."""
    require_docker()
    session = session_for(REPO / "examples", tmp_path)
    example = example_of(session, "python/psycopg2")
    try:
        for scenario in ("connect_now", "select_rows", "connect_now"):
            result = run_case(session, example, scenario)
            assert result.outcome is Outcome.PASSED, result.failure.render() if result.failure else result.message
        assert session.executor._containers.started == 1  # type: ignore[attr-defined]
        assert len(_example_containers(session.run_id)) == 1
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers or networks of the run are left behind"


def test_an_example_container_has_no_socket_no_capabilities_a_read_only_root_and_limits(
        docker_bad_examples: Path, tmp_path: Path) -> None:
    """hostile/container-escape tries the Docker socket, writes outside its scratch and reports
    its capabilities and limits; its second case (same container) finds its scratch emptied."""
    require_docker()
    from harness.backends.example_containers import CPU_LIMIT_CORES, PIDS_LIMIT

    session = session_for(docker_bad_examples, tmp_path)
    example = example_of(session, "hostile/container-escape")
    try:
        results = [run_case(session, example, scenario) for scenario in ("connect_now", "select_rows")]
        attempts = [dict(line.removeprefix("attempt ").split(": ", 1) for line in r.stderr.splitlines()
                         if line.startswith("attempt ")) for r in results]
        first, second = attempts
        for what, outcome in first.items():
            if what.startswith(("socket", "write")):
                assert outcome.startswith("refused"), (what, outcome)
        assert first["capabilities"] == "0000000000000000"
        assert first["no_new_privs"] == "1"
        assert first["limit memory"] == str(1 << 30)
        assert first["limit pids"] == str(PIDS_LIMIT)
        assert first["limit cpu"] == str(int(CPU_LIMIT_CORES * 100000))   # the default 100 ms period
        assert (first["scratch from an earlier case"], second["scratch from an earlier case"]) == ("none", "none")
        assert session.executor._containers.started == 1  # type: ignore[attr-defined]
    finally:
        session.close()
    assert labelled(session.run_id) == ([], []), "containers or networks of the run are left behind"
