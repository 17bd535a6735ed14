"""PgBouncer in a container of its own, for the docker backend's pooled topologies.

The image comes from harness/pooler/image/Dockerfile (FROM debian:bookworm-slim, Debian's
pgbouncer package: the same PgBouncer as the native topology). It is built by the harness like
an example's image: tagged `pg-sample-harness/pgbouncer:<hash of the image folder>` with that
hash as a label, reused while the folder is unchanged (a warm run builds nothing), the three
newest kept.

The container runs on the host's network, as the server and the examples' containers do, so it
listens on loopback where the examples reach it and the harness reaches its console. The
pooler's dir (pgbouncer.ini, auth_file, TLS files, log) is mounted at the same path, read-write:
the harness rewrites the auth_file and RELOADs, and reads the log, exactly as natively.
PgBouncer runs as the dir's owner (never root, which PgBouncer refuses). The container carries
the run's label: the executor's clean-up and the reaper of a killed run find it."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from harness.backends.docker import IMAGE_REPOSITORY, SOURCE_HASH_LABEL, docker_client, drop_older_images, follow_build
from harness.errors import HarnessError
from harness.pooler.process import version_line
from harness.server.container import ROLE_LABEL, RUN_LABEL
from harness.ticker import ticking

IMAGE_DIR = Path(__file__).parent / "image"
IMAGE_NAME = f"{IMAGE_REPOSITORY}/pgbouncer"
ROLE = "pgbouncer"
STOP_SECONDS = 3   # SIGINT (PgBouncer's safe shutdown), then SIGKILL


def image_hash(folder: Path = IMAGE_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def image_tag(digest: str) -> str:
    return f"{IMAGE_NAME}:{digest[:12]}"


def ensure_image(log_path: Path, timeout: float, folder: Path = IMAGE_DIR) -> tuple[str, float]:
    """The PgBouncer image's tag, built if no image of that tag carries the folder's hash;
    (tag, seconds spent building: 0.0 when it was there)."""
    import docker
    digest = image_hash(folder)
    tag = image_tag(digest)
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
    drop_older_images(IMAGE_NAME, tag)
    return tag, time.monotonic() - start


class ContainerProcess:
    """PgBouncer in container `pgsh-<run id>-pgbouncer-<mode>` of the run."""

    def __init__(self, run_id: str, pool_mode: str, build_log: Path, build_timeout: float) -> None:
        self.run_id = run_id
        self.name = f"pgsh-{run_id}-pgbouncer-{pool_mode}"
        self.build_log = build_log
        self.build_timeout = build_timeout
        self.build_seconds = 0.0
        self.tag = ""

    def start(self, ini: Path) -> None:
        self.tag, self.build_seconds = ensure_image(self.build_log, self.build_timeout)
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
        return f"container {self.name} of image {self.tag or IMAGE_NAME}"
