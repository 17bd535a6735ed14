"""A stand-in base image is one recipe file: ci/standin-images.sh finds it by its
`# stands-in-for:` line, and names the file to add when an image has none."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

GO_RECIPE = """# Stand-in for golang:<version>-bookworm: Debian's Go toolchain.
# stands-in-for: golang:*-bookworm
ARG BASE=pg-harness-standin/base:bookworm
FROM ${BASE}
"""


def project_with(tmp_path: Path, from_line: str, recipe: str | None) -> Path:
    (tmp_path / "ci").mkdir()
    shutil.copy(REPO / "ci" / "standin-images.sh", tmp_path / "ci")
    shutil.copytree(REPO / "ci" / "standin-images", tmp_path / "ci" / "standin-images")
    if recipe:
        (tmp_path / "ci" / "standin-images" / "golang.Dockerfile").write_text(recipe)
    example = tmp_path / "examples" / "go" / "pgx"
    example.mkdir(parents=True)
    (example / "Dockerfile").write_text(f"FROM {from_line}\n")
    return tmp_path


def list_standins(root: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail("these tests read `docker images`: start a Docker engine (ci/docker-engine.sh)")
    return subprocess.run(["bash", str(root / "ci" / "standin-images.sh"), "--list"], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(root)})


def test_a_new_recipe_file_is_all_a_new_base_image_needs(tmp_path: Path) -> None:
    out = list_standins(project_with(tmp_path, "golang:1.99-bookworm", GO_RECIPE))
    assert out.returncode == 0, out.stderr
    assert "golang: golang:1.99-bookworm" in out.stdout


def test_an_image_without_a_recipe_names_the_file_to_add(tmp_path: Path) -> None:
    out = list_standins(project_with(tmp_path, "golang:1.99-bookworm", None))
    assert out.returncode == 1
    assert "no stand-in recipe for: golang:1.99-bookworm" in out.stderr
    assert "ci/standin-images/<name>.Dockerfile with a '# stands-in-for: <image glob>' line" in out.stderr
