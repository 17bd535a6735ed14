"""PgBouncer in a container of its own, for the docker backend's pooled topologies.

The 1.18 image comes from harness/pooler/image/Dockerfile (FROM debian:bookworm-slim, Debian's
pgbouncer package: the same PgBouncer as the native topology); the 1.24 image from
harness/pooler/image-1.24/Dockerfile, built from the orig tarball ci/pgbouncer-1.24.sh fetched
and checked (copied into the build context beside the Dockerfile). Each is built by the harness
like an example's image: tagged `pg-sample-harness/pgbouncer[-<version>]:<hash of the build
context>` with that hash as a label, reused while the context is unchanged (a warm run builds
nothing), the three newest of each kept.

The container runs on the host's network, as the server and the examples' containers do, so it
listens on loopback where the examples reach it and the harness reaches its console. The
pooler's dir (pgbouncer.ini, auth_file, TLS files, log) is mounted at the same path, read-write:
the harness rewrites the auth_file and RELOADs, and reads the log, exactly as natively.
PgBouncer runs as the dir's owner (never root, which PgBouncer refuses). The container carries
the run's label: the executor's clean-up and the reaper of a killed run find it."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.backends.docker import IMAGE_REPOSITORY, SOURCE_HASH_LABEL, docker_client, drop_older_images, follow_build
from harness.errors import HarnessError
from harness.pooler import DEFAULT_VERSION, Topology
from harness.pooler.process import version_line
from harness.pooler.versions import BUILD_SCRIPT, BUILT, built_prefix
from harness.server.container import ROLE_LABEL, RUN_LABEL
from harness.ticker import ticking

IMAGE_DIR = Path(__file__).parent / "image"
IMAGE_NAME = f"{IMAGE_REPOSITORY}/pgbouncer"
IMAGE_DIRS = {DEFAULT_VERSION: IMAGE_DIR, **{v: IMAGE_DIR.with_name(f"image-{v}") for v in BUILT}}
ROLE = "pgbouncer"
STOP_SECONDS = 3   # SIGINT (PgBouncer's safe shutdown), then SIGKILL


def image_hash(folder: Path = IMAGE_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def image_name(version: str = DEFAULT_VERSION) -> str:
    return IMAGE_NAME if version == DEFAULT_VERSION else f"{IMAGE_NAME}-{version}"


def image_tag(digest: str, version: str = DEFAULT_VERSION) -> str:
    return f"{image_name(version)}:{digest[:12]}"


@contextmanager
def build_context(version: str) -> Iterator[Path]:
    """The folder docker builds that version's image from: its image folder, and for a version
    built from source the tarball ci/pgbouncer-1.24.sh checked, copied beside the Dockerfile."""
    if version not in BUILT:
        yield IMAGE_DIRS[version]
        return
    tarball = built_prefix(version) / "src" / f"pgbouncer_{BUILT[version]}.orig.tar.gz"
    if not tarball.exists():
        raise HarnessError(f"the PgBouncer {BUILT[version]} image needs {tarball}\n  fix: bash {BUILD_SCRIPT}")
    with tempfile.TemporaryDirectory(prefix="pgsh-pgbouncer-image-") as folder:
        shutil.copytree(IMAGE_DIRS[version], folder, dirs_exist_ok=True)
        shutil.copy2(tarball, Path(folder) / tarball.name)
        yield Path(folder)


def ensure_image(log_path: Path, timeout: float, folder: Path | None = None,
                 version: str = DEFAULT_VERSION) -> tuple[str, float]:
    """The image of that PgBouncer version, built if no image of its tag carries the build
    context's hash; (tag, seconds spent building: 0.0 when it was there)."""
    if folder is None:
        with build_context(version) as context:
            return ensure_image(log_path, timeout, context, version)
    import docker
    digest = image_hash(folder)
    tag = image_tag(digest, version)
    with docker_client(timeout) as client:
        try:
            if (client.images.get(tag).labels or {}).get(SOURCE_HASH_LABEL) == digest:
                return tag, 0.0
        except docker.errors.ImageNotFound:
            pass
        log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        with log_path.open("w", encoding="utf-8") as out:
            out.write(f"docker build {folder} -t {tag}\n")
            try:
                chunks = client.api.build(path=str(folder), tag=tag, labels={SOURCE_HASH_LABEL: digest},
                                          network_mode="host", rm=True, forcerm=True, decode=True)
                with ticking(f"building the PgBouncer image {tag}"):
                    error = follow_build(chunks, out, start + timeout)
            except Exception as exc:  # noqa: BLE001 - the engine's API errors, reported with the log
                error = f"{type(exc).__name__}: {exc}"
    if error:
        reason = f"timed out after {timeout:.0f} s" if error == "timeout" else error[:300]
        raise HarnessError(f"the PgBouncer image {tag} did not build: {reason}\n  build log: {log_path}\n"
                           f"  fix: see the log; without a registry, build the base image's stand-in first: "
                           f"ci/standin-images.sh")
    drop_older_images(image_name(version), tag)
    return tag, time.monotonic() - start


class ContainerProcess:
    """PgBouncer in container `pgsh-<run id>-<topology>` of the run."""

    def __init__(self, run_id: str, where: Topology, build_log: Path, build_timeout: float) -> None:
        self.run_id = run_id
        self.pooler_version = where.version   # not `version`: that is the method asking the container
        self.name = f"pgsh-{run_id}-{where.base.label}"
        self.build_log = build_log
        self.build_timeout = build_timeout
        self.build_seconds = 0.0
        self.tag = ""

    def start(self, ini: Path) -> None:
        self.tag, self.build_seconds = ensure_image(self.build_log, self.build_timeout, version=self.pooler_version)
        self.stop()   # the container of an attempt that did not come up (its port was taken)
        root = ini.parent
        owner = root.stat()
        with docker_client() as client:
            client.containers.run(
                self.tag, [str(ini)], name=self.name, detach=True, network_mode="host",
                user=f"{owner.st_uid}:{owner.st_gid}", stop_signal="SIGINT",
                labels={RUN_LABEL: self.run_id, ROLE_LABEL: ROLE},
                volumes={str(root): {"bind": str(root), "mode": "rw"}})

    def _container(self, client: Any) -> Any:
        import docker
        try:
            return client.containers.get(self.name)
        except docker.errors.NotFound:
            return None

    def is_alive(self) -> bool:
        with docker_client() as client:
            container = self._container(client)
            return container is not None and container.status == "running"

    def stop(self) -> None:
        import docker
        with docker_client() as client:
            container = self._container(client)
            if container is None:
                return
            try:
                container.stop(timeout=STOP_SECONDS)
            except docker.errors.APIError:
                pass   # not running: removed below all the same
            try:
                container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass

    def version(self) -> str:
        with docker_client() as client:
            container = self._container(client)
            if container is None:
                return ""
            result = container.exec_run(["pgbouncer", "--version"])
        return version_line(result.output.decode(errors="replace")) if result.exit_code == 0 else ""

    def owner_facts(self) -> dict[str, str]:
        return {"run_id": self.run_id}

    def describe(self) -> str:
        return f"container {self.name} of image {self.tag or image_name(self.pooler_version)}"
