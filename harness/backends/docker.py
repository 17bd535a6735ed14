"""The docker backend: PostgreSQL in a container (harness.server.container), and each example
built from its own Dockerfile (context = its folder) into
`pg-sample-harness/<language>-<name>:<source hash prefix>`; each case is `docker exec -i` into a
kept container of that image (harness.backends.example_containers: one per example lane, its
processes checked after each case) with the case's PG* / DATABASE_URL / HARNESS_* variables (and a
driver fix's variables, with its files' dir mounted at the same path).
`-e NAME` without a value makes the docker client copy the value from its own environment, so no
password appears on a command line. A pooled topology's PgBouncer runs in a container of its own
(harness.pooler.container).

Images, labels and cleanup go through the docker SDK. An image whose label
harness.build.source_hash matches the example's sources is reused (an unchanged example is not
rebuilt). Every container carries the run's label; a lane whose case left a process running
(or timed out) is removed with it, and cleanup() removes every container and network carrying
the run's label.

Runs from several checkouts may share one engine, and each prunes its examples' older images
(drop_older_images). So that no run removes an image another run is about to use, each run holds
every image it uses with a created, never started container of its own (an engine refuses to
remove an image a container uses, unless forced), and starts its cases by image id. An image
removed by force all the same is rebuilt (from the layer cache) before the next case."""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.backends.base import Launch
from harness.backends.example_containers import EXAMPLE_LABEL, CaseLease, ExampleContainers
from harness.build import BuildResult, source_hash
from harness.config import Config
from harness.errors import HarnessError
from harness.manifest import Example, Requirement
from harness.pooler.fixes import FIX_DIR_VARIABLE, FIX_NAMES_VARIABLE
from harness.server.base import ServerSettings
from harness.server.container import ENGINE_FIX, IMAGE_ENV, ROLE_LABEL, RUN_LABEL, ContainerServer, engine_problem
from harness.ticker import ticking
from harness.toolchain import ToolStatus

if TYPE_CHECKING:
    from harness.pooler import Topology
    from harness.pooler.container import ContainerProcess

IMAGE_REPOSITORY = "pg-sample-harness"
SOURCE_HASH_LABEL = "harness.build.source_hash"
HASH_PREFIX = 12
KEEP_IMAGES = 3  # per example: the current image and the two before it (and any a live run holds)
HOLDER_ROLE = "image-holder"
DOCKER_API_TIMEOUT = 120
# The variables of the case environment that the example needs inside its container.
PASSED_EXACT = {"DATABASE_URL"}


@contextmanager
def docker_client(timeout: float = DOCKER_API_TIMEOUT) -> Iterator[Any]:
    import docker
    client = docker.from_env(timeout=int(timeout))
    try:
        yield client
    finally:
        client.close()


def image_repository(example: Example) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", f"{example.language}-{example.name}".lower()).strip("-._")
    return f"{IMAGE_REPOSITORY}/{slug}"


def image_tag(example: Example, digest: str) -> str:
    return f"{image_repository(example)}:{digest[:HASH_PREFIX]}"


def passes_variable(name: str) -> bool:
    return name.startswith("PG") or name in PASSED_EXACT or name.startswith("HARNESS_")


def follow_build(chunks: Iterator[dict[str, Any]], log: Any, deadline: float) -> str:
    """Writes the engine's build output to the log; returns its error ('' when the build succeeded)."""
    for chunk in chunks:
        if "stream" in chunk:
            log.write(chunk["stream"])
        if "error" in chunk:
            log.write(chunk["error"] + "\n")
            return str(chunk["error"]).strip()
        if time.monotonic() > deadline:
            return "timeout"
    return ""


def drop_older_images(repository: str, keep: str) -> None:
    """Keep the KEEP_IMAGES newest images of a repository (switching branches back and forth
    does not rebuild); older ones go."""
    import docker
    with docker_client() as client:
        images = sorted(client.images.list(name=repository),
                        key=lambda image: image.attrs.get("Created", ""), reverse=True)
        tags = [t for image in images for t in image.tags if t != keep]  # newest first
        for old in tags[KEEP_IMAGES - 1:]:
            try:
                client.images.remove(old)
            except docker.errors.APIError:
                pass  # held by a live run (see the module's docstring): it goes next time


class DockerExecutor:
    def __init__(self, config: Config) -> None:
        self.dir = config.paths.cache / "docker-builds"
        self.run_id = config.run_id
        self.build_timeout = config.docker_build_timeout
        self._engine_problem: str | None = None
        self._leases: dict[str, CaseLease] = {}   # case id -> the lane it runs in
        self._containers: ExampleContainers | None = None
        self._counter = itertools.count(1)
        self._tags: dict[str, str] = {}
        self._images: dict[str, str] = {}  # example id -> the id of the image its cases run
        self._client: Any = None  # one client for the calls of each case, under _lock (a new one costs ~10 ms of CPU)
        self._lock = threading.Lock()   # the held images and the kept client

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
        import docker
        with docker_client() as client:
            try:
                return (client.images.get(tag).labels or {}).get(SOURCE_HASH_LABEL)
            except docker.errors.ImageNotFound:
                return None

    def build(self, example: Example, force: bool) -> BuildResult:
        digest = source_hash(example)
        tag = image_tag(example, digest)
        self._tags[example.id] = tag
        log = self.log_path(example)
        if not force and self.image_source_hash(tag) == digest and self._hold(example, tag):
            return BuildResult(True, True, 0.0, digest, log if log.exists() else None)
        assert example.dockerfile is not None
        self.dir.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        timeout = max(example.build_timeout, self.build_timeout)
        with log.open("w", encoding="utf-8") as out, docker_client(timeout) as client:
            out.write(f"docker build {example.folder} -f {example.dockerfile} -t {tag}{' (no cache)' if force else ''}\n")
            try:
                # The legacy builder over the API; closing the stream (timeout, Ctrl-C) cancels it.
                chunks = client.api.build(path=str(example.folder), dockerfile=example.dockerfile, tag=tag,
                                          labels={SOURCE_HASH_LABEL: digest, EXAMPLE_LABEL: example.id},
                                          network_mode="host", rm=True, forcerm=True, nocache=force, decode=True)
                with ticking(f"building image {tag} for {example.id}"):
                    error = follow_build(chunks, out, start + timeout)
            except Exception as exc:  # noqa: BLE001 - the engine's API errors, reported with the log
                error = f"{type(exc).__name__}: {exc}"
        seconds = time.monotonic() - start
        if error == "timeout":
            return BuildResult(False, False, seconds, digest, log, f"docker build timed out after {timeout:.0f} s")
        if error:
            return BuildResult(False, False, seconds, digest, log, f"docker build failed (image {tag}): {error[:300]}")
        if not self._hold(example, tag):
            return BuildResult(False, False, seconds, digest, log,
                               f"image {tag} was removed right after its build (another run pruning this engine's "
                               f"images?); run again")
        drop_older_images(image_repository(example), tag)
        return BuildResult(True, False, seconds, digest, log)

    def _hold(self, example: Example, tag: str) -> bool:
        """Holds the image for the rest of the run (a created container of the run uses it, so
        no other run's pruning removes it); False when the image is gone already."""
        import docker
        name = f"pgsh-{self.run_id}-{next(self._counter)}-hold-{image_repository(example).rsplit('/', 1)[-1]}"
        with docker_client() as client:
            try:
                image = client.images.get(tag)
            except docker.errors.ImageNotFound:
                return False
            try:
                client.containers.create(image.id, command=["true"], name=name[:120], network_mode="none",
                                         labels={RUN_LABEL: self.run_id, ROLE_LABEL: HOLDER_ROLE,
                                                 EXAMPLE_LABEL: example.id})
            except docker.errors.APIError:
                pass  # not held (the engine refused the container): the cases run all the same
        self._images[example.id] = image.id
        return True

    def _image_for(self, example: Example) -> str:
        """The id of the image held since the build; rebuilt when something removed it by force."""
        import docker
        with self._lock:
            image = self._images.get(example.id)
            if image is None:   # not built by this executor (a caller that launches only)
                return self._tags.get(example.id) or image_tag(example, source_hash(example))
            try:
                self._kept_client().api.inspect_image(image)
                return image
            except docker.errors.ImageNotFound:
                pass
            rebuilt = self.build(example, force=False)
            if not rebuilt.ok:
                raise HarnessError(f"the image of {example.id} was removed during the run (forced, by another run "
                                   f"or by hand) and did not build again: {rebuilt.message}\n"
                                   f"  build log: {rebuilt.log_path}\n"
                                   f"  fix: do not remove pg-sample-harness/* images while a run uses them; run again")
            return self._images[example.id]

    # -- cases ------------------------------------------------------------------------------
    def launch(self, example: Example, env: Mapping[str, str], case_id: str) -> Launch:
        image = self._image_for(example)
        mounts = []
        rootcert = env.get("PGSSLROOTCERT")
        if rootcert and os.path.isfile(rootcert):
            mounts.append(rootcert)
        fix_dir = env.get(FIX_DIR_VARIABLE)
        if fix_dir and os.path.isdir(fix_dir):   # its files, where the fix's variables name them
            mounts.append(fix_dir)
        with self._lock:
            lanes = self._lanes()
        lease = lanes.take(example.id, image, tuple(mounts))
        self._leases[case_id] = lease
        fixed = set(env.get(FIX_NAMES_VARIABLE, "").split())   # a driver fix's variables (harness.pooler.fixes)
        names = [key for key in sorted(env) if passes_variable(key) or key in fixed]
        # The docker CLI, not the SDK: `docker exec -i` streams the case's stdin and stdout (the
        # checkpoint protocol) and its exit code exactly as a native process does, so the case
        # runs through the same run_process as a native one.
        return Launch(lease.container.command, example.folder, dict(env), ContainerCase(lanes, lease, names))

    def after_case(self, case_id: str) -> None:
        """The case's lane is checked (if run_process did not) and given back or replaced."""
        lease = self._leases.pop(case_id, None)
        if lease is not None and self._containers is not None:
            self._containers.finish(lease)

    def _lanes(self) -> ExampleContainers:
        """The run's kept example containers (the caller holds _lock)."""
        if self._containers is None:
            self._containers = ExampleContainers(self.run_id, self._kept_client(), self._lock)
        return self._containers

    def _kept_client(self) -> Any:
        """The run's client (the caller holds _lock)."""
        if self._client is None:
            import docker
            self._client = docker.from_env(timeout=DOCKER_API_TIMEOUT)
        return self._client

    def _remove_containers(self, filters: dict[str, Any]) -> None:
        with docker_client() as client:
            self._remove_from(client, filters)

    @staticmethod
    def _remove_from(client: Any, filters: dict[str, Any]) -> None:
        import docker
        for container in client.containers.list(all=True, filters=filters):
            try:
                container.remove(force=True, v=True)
            except docker.errors.APIError:
                pass  # gone or going: --rm took it meanwhile

    def cleanup(self) -> None:
        """Remove every container and network carrying the run's label. The example images are
        the build cache and stay; so do the stand-in base images."""
        for case_id in list(self._leases):
            self.after_case(case_id)
        if self._containers is not None:
            self._containers.close()
            self._containers = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._engine_problem:
            return
        import docker
        try:
            label = {"label": f"{RUN_LABEL}={self.run_id}"}
            self._remove_containers(label)
            with docker_client() as client:
                for network in client.networks.list(filters=label):
                    network.remove()
        except docker.errors.DockerException:
            pass


@dataclass(frozen=True)
class ContainerCase:
    """A case's confinement on this backend (harness.process.run_process's `confine`): its
    command exec'd into its example's kept container, and afterwards what it left there."""

    lanes: ExampleContainers
    lease: CaseLease
    env_names: list[str]

    def wrap(self, argv: Sequence[str]) -> list[str]:
        return self.lanes.exec_argv(self.lease, self.env_names, list(argv))

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        return dict(env)

    def finish(self) -> tuple[int | None, list[str], float | None]:
        """(None: the exit code is the docker client's, which is the case's; what was left
        running, now removed with its container; the container's CPU seconds during the case)."""
        self.lanes.finish(self.lease)
        return None, self.lease.leftovers, self.lease.cpu_seconds


class DockerBackend:
    name = "docker"

    def make_server(self, config: Config, password: str, name: str = "postgres") -> ContainerServer:
        return ContainerServer(ServerSettings(superuser_password=password), image=config.postgres_image,
                               run_id=config.run_id, name=name)

    def make_executor(self, config: Config) -> DockerExecutor:
        return DockerExecutor(config)

    def pooler_process(self, config: Config, topology: "Topology") -> "ContainerProcess":
        from harness.pooler.container import ContainerProcess  # it builds on this module
        return ContainerProcess(config.run_id, topology, config.paths.cache / "docker-builds" / f"{topology.base.label}.log",
                                config.docker_build_timeout)

    def describe(self, config: Config) -> str:
        return f"PostgreSQL image {config.postgres_image} ({IMAGE_ENV})"


BACKEND = DockerBackend()
