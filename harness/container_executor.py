"""The docker backend's executor: each example is built from its own Dockerfile (context = its
folder) into `pg-sample-harness/<language>-<name>:<source hash prefix>`, and each case runs as
`docker run --rm -i --network host ...` of that image with the case's PG* / DATABASE_URL /
HARNESS_* variables. `-e NAME` without a value makes the docker client copy the value from its
own environment, so no password appears on a command line.

An image whose label harness.build.source_hash matches the example's sources is reused (an
unchanged example is not rebuilt). Every container carries the run's label; after each case the
case's container is removed (a timed-out case kills only the `docker run` client, the container
would live on), and cleanup() removes every container and network carrying the run's label."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import time
from pathlib import Path

from harness.build import BuildResult, source_hash
from harness.executors import Launch
from harness.manifest import Example, Requirement
from harness.process import run_process
from harness.server.base import new_run_id
from harness.server.container import ENGINE_FIX, ROLE_LABEL, RUN_LABEL, engine_problem
from harness.ticker import ticking
from harness.toolchain import ToolStatus

IMAGE_REPOSITORY = "pg-sample-harness"
SOURCE_HASH_LABEL = "harness.build.source_hash"
EXAMPLE_LABEL = "harness.example"
HASH_PREFIX = 12
KEEP_IMAGES = 3  # per example: the current image and the two before it
BUILD_TIMEOUT_SECONDS = float(os.environ.get("HARNESS_DOCKER_BUILD_TIMEOUT", "1800"))
DOCKER_CLI_TIMEOUT = 120
# The variables of the case environment that the example needs inside its container.
PASSED_EXACT = {"DATABASE_URL"}


def _docker(*args: str, timeout: float = DOCKER_CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def image_repository(example: Example) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", f"{example.language}-{example.name}".lower()).strip("-._")
    return f"{IMAGE_REPOSITORY}/{slug}"


def image_tag(example: Example, digest: str) -> str:
    return f"{image_repository(example)}:{digest[:HASH_PREFIX]}"


def passes_variable(name: str) -> bool:
    return name.startswith("PG") or name in PASSED_EXACT or name.startswith("HARNESS_")


def labelled(kind: str, run_id: str) -> list[str]:
    """Ids of the containers (kind 'ps') or networks (kind 'network') carrying the run's label."""
    args = ["ps", "-aq"] if kind == "ps" else ["network", "ls", "-q"]
    out = _docker(*args, "--filter", f"label={RUN_LABEL}={run_id}")
    return out.stdout.split() if out.returncode == 0 else []


class DockerExecutor:
    def __init__(self, cache_dir: Path, run_id: str | None = None) -> None:
        self.dir = cache_dir / "docker-builds"
        self.run_id = run_id or new_run_id()
        self._engine_problem: str | None = None
        self._names: dict[str, str] = {}
        self._counter = itertools.count(1)
        self._tags: dict[str, str] = {}

    # -- tools ------------------------------------------------------------------------------
    def missing_tools(self, example: Example) -> list[ToolStatus]:
        missing = []
        if self._engine_problem is None:
            self._engine_problem = engine_problem()
        if self._engine_problem:
            first = self._engine_problem.splitlines()[0]
            missing.append(ToolStatus(Requirement(tool="docker", install=f"{first}; {ENGINE_FIX}",
                                                  version_command=("docker", "info")), False))
        if not example.dockerfile:
            missing.append(ToolStatus(Requirement(
                tool="Dockerfile",
                install=f"add `docker: {{dockerfile: Dockerfile}}` and a Dockerfile to {example.manifest}"), False))
        return missing

    # -- build ------------------------------------------------------------------------------
    def log_path(self, example: Example) -> Path:
        return self.dir / (example.id.replace("/", "__") + ".log")

    def image_source_hash(self, tag: str) -> str | None:
        out = _docker("image", "inspect", "--format", f'{{{{index .Config.Labels "{SOURCE_HASH_LABEL}"}}}}', tag)
        return out.stdout.strip() if out.returncode == 0 else None

    def build(self, example: Example, force: bool) -> BuildResult:
        digest = source_hash(example)
        tag = image_tag(example, digest)
        self._tags[example.id] = tag
        log = self.log_path(example)
        if not force and self.image_source_hash(tag) == digest:
            return BuildResult(True, True, 0.0, digest, log if log.exists() else None)
        assert example.dockerfile is not None
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = ["docker", "build", "--network", "host", "--force-rm", "-f", str(example.folder / example.dockerfile),
                "-t", tag, "--label", f"{SOURCE_HASH_LABEL}={digest}", "--label", f"{EXAMPLE_LABEL}={example.id}",
                str(example.folder)]
        if force:
            argv.insert(2, "--no-cache")
        start = time.monotonic()
        timeout = max(example.build_timeout, BUILD_TIMEOUT_SECONDS)
        with ticking(f"building image {tag} for {example.id}"):
            run = run_process(argv, example.folder, os.environ, timeout)
        seconds = time.monotonic() - start
        log.write_text(f"$ {' '.join(argv)}\n{run.stdout}\n{run.stderr}")
        if run.start_error:
            return BuildResult(False, False, seconds, digest, log, run.start_error)
        if run.timed_out:
            return BuildResult(False, False, seconds, digest, log, f"docker build timed out after {timeout:.0f} s")
        if run.exit_code != 0:
            return BuildResult(False, False, seconds, digest, log,
                               f"docker build exited with code {run.exit_code} (image {tag})")
        self._drop_older_tags(example, tag)
        return BuildResult(True, False, seconds, digest, log)

    def _drop_older_tags(self, example: Example, keep: str) -> None:
        """Keep the KEEP_IMAGES newest images of an example (switching branches back and forth
        does not rebuild); older ones go."""
        out = _docker("images", "--format", "{{.Repository}}:{{.Tag}}", image_repository(example))
        tags = [t for t in out.stdout.split() if t != keep and not t.endswith(":<none>")]  # newest first
        old = tags[KEEP_IMAGES - 1:]
        if old:
            _docker("image", "rm", *old)

    # -- cases ------------------------------------------------------------------------------
    def launch(self, example: Example, env: dict[str, str], case_id: str) -> Launch:
        tag = self._tags.get(example.id) or image_tag(example, source_hash(example))
        slug = re.sub(r"[^a-zA-Z0-9_.-]+", "-", case_id).strip("-.")[:60]
        name = f"pgsh-{self.run_id}-{next(self._counter)}-{slug}"
        self._names[case_id] = name
        command = ["docker", "run", "--rm", "-i", "--init", "--network", "host", "--name", name,
                   "--label", f"{RUN_LABEL}={self.run_id}", "--label", f"{ROLE_LABEL}=example",
                   "--label", f"{EXAMPLE_LABEL}={example.id}"]
        for key in sorted(env):
            if passes_variable(key):
                command += ["-e", key]  # the value comes from the docker client's environment
        rootcert = env.get("PGSSLROOTCERT")
        if rootcert and os.path.isfile(rootcert):
            command += ["-v", f"{rootcert}:{rootcert}:ro"]
        command.append(tag)
        return Launch(command, example.folder, env)

    def after_case(self, case_id: str) -> None:
        """The `docker run` client may have been killed (a timeout) while its container lives on."""
        name = self._names.pop(case_id, None)
        if name:
            _docker("rm", "-f", "-v", name)

    def cleanup(self) -> None:
        """Remove every container and network carrying the run's label. The example images are
        the build cache and stay; so do the stand-in base images."""
        for case_id in list(self._names):
            self.after_case(case_id)
        if self._engine_problem:
            return
        try:
            containers = labelled("ps", self.run_id)
            if containers:
                _docker("rm", "-f", "-v", *containers)
            networks = labelled("network", self.run_id)
            if networks:
                _docker("network", "rm", *networks)
        except (OSError, subprocess.TimeoutExpired):
            pass
