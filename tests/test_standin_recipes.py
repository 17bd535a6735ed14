"""ci/standin-images.sh finds a base image's recipe by name: one file with a `# standin-for:`
line, and nothing else, makes a new base image buildable. Run on a copy of ci/ (so the test's
recipes never land in the repository) against a temporary examples tree."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

from tests.support import REPO
from tests.test_docker_backend import require_docker

MANIFEST = """\
id: x/y
language: x
title: an example whose Dockerfile names made-up base images
driver: {name: t, version: "1"}
run: {command: [sh]}
docker: {dockerfile: Dockerfile}
scenarios: {applies: [connect_now]}
"""


def project(tmp_path: Path, froms: list[str], recipes: dict[str, str]) -> tuple[Path, Path]:
    """A copy of ci/ with the extra recipes beside the repository's venv, and an examples tree."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / "ci", root / "ci")
    (root / ".venv").symlink_to(REPO / ".venv")
    for name, text in recipes.items():
        (root / "ci" / "standin-images" / f"{name}.Dockerfile").write_text(text)
    folder = tmp_path / "examples" / "x" / "y"
    folder.mkdir(parents=True)
    (folder / "example.yaml").write_text(MANIFEST)
    (folder / "Dockerfile").write_text("".join(f"FROM {image}\n" for image in froms))
    return root, tmp_path / "examples"


def standin(root: Path, examples: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    env.update(HARNESS_EXAMPLES=str(examples), STANDIN_LOG_DIR=str(root / "logs"))
    return subprocess.run(["bash", "ci/standin-images.sh", *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600)


def test_a_new_recipe_file_is_found_by_the_image_name(tmp_path: Path) -> None:
    root, examples = project(tmp_path, ["madeup-lang:3-bookworm AS build", "debian:bookworm-slim"],
                             {"madeup": "# standin-for: madeup-lang:*-bookworm\nFROM ${BASE}\n"})
    out = standin(root, examples, "--recipes")
    assert out.returncode == 0, out.stderr
    assert "madeup-lang:3-bookworm ci/standin-images/madeup.Dockerfile" in out.stdout.splitlines()
    assert "debian:bookworm-slim ci/standin-images/base.Dockerfile" in out.stdout.splitlines()


def test_an_image_without_a_recipe_is_named_with_the_fix(tmp_path: Path) -> None:
    root, examples = project(tmp_path, ["madeup-lang:3-bookworm"], {})
    out = standin(root, examples, "--recipes")
    assert out.returncode == 1
    assert "no stand-in recipe for: madeup-lang:3-bookworm" in out.stderr
    assert "with a '# standin-for: <image glob>' line" in out.stderr


def test_a_recipe_in_the_examples_own_folder_is_found(tmp_path: Path) -> None:
    """A new language's base image comes with its example: <folder>/standin-images/<recipe>.Dockerfile."""
    root, examples = project(tmp_path, ["madeup-lang:3-bookworm"], {})
    own = examples / "x" / "y" / "standin-images"
    own.mkdir()
    (own / "madeup.Dockerfile").write_text("# standin-for: madeup-lang:*-bookworm\nFROM ${BASE}\n")
    out = standin(root, examples, "--recipes")
    assert out.returncode == 0, out.stderr
    assert f"madeup-lang:3-bookworm {own / 'madeup.Dockerfile'}" in out.stdout.splitlines()
    # A name taken twice is refused, naming both files.
    (own / "node.Dockerfile").write_text("# standin-for: nothing:*\nFROM ${BASE}\n")
    out = standin(root, examples, "--recipes")
    assert out.returncode == 1 and "two stand-in recipes are named node" in out.stderr
    assert str(own / "node.Dockerfile") in out.stderr


def test_a_recipe_that_builds_on_another_is_built_after_it(tmp_path: Path) -> None:
    require_docker()
    suffix = secrets.token_hex(4)
    first, second = f"t{suffix}first", f"t{suffix}second"
    images = [f"pg-harness-test-{suffix}-second:1", f"pg-harness-test-{suffix}-first:1"]
    root, examples = project(tmp_path, images, {
        first: f"# standin-for: pg-harness-test-{suffix}-first:*\nARG BASE\nFROM ${{BASE}}\nLABEL made.by={first}\n",
        second: (f"# standin-for: pg-harness-test-{suffix}-second:*\n# standin-on: {first}\n"
                 f"ARG BASE\nFROM ${{BASE}}\nLABEL made.on=yes\n"),
    })
    internal = [f"pg-harness-standin/{first}:bookworm", f"pg-harness-standin/{second}:bookworm"]
    try:
        out = standin(root, examples)
        assert out.returncode == 0, out.stderr
        log = out.stderr
        assert log.index(f"built {internal[0]}") < log.index(f"building {internal[1]}")
        labels = subprocess.run(["docker", "image", "inspect", images[0], "--format", "{{json .Config.Labels}}"],
                                capture_output=True, text=True, check=True).stdout
        assert f'"made.by":"{first}"' in labels and '"made.on":"yes"' in labels  # built FROM the first
    finally:
        subprocess.run(["docker", "image", "rm", *images, *internal], capture_output=True)
