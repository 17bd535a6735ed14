"""Drop-in all the way: a new language's example is one folder, and everything around the harness
takes it in with no other edit. A minimal Go example (pgx with pgxpool, tests/dropin_example/)
is copied beside the repository's examples into a temporary tree; the repository's own scripts,
workflow and README command then run against that tree (HARNESS_EXAMPLES) unchanged."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.manifest import discover
from harness.spec import load_spec
from tests.support import REPO, SPEC

NEW_FOLDER = REPO / "tests" / "dropin_example" / "go" / "pgx"
NEW_ID = "go/pgx"
WORKFLOW = REPO / ".github" / "workflows" / "conformance.yml"


def tracked(*paths: str, uncommitted: bool = False) -> list[str]:
    """The files git tracks; with `uncommitted`, also those it would track (a new example not
    committed yet: its contributor runs this before the commit), never what .gitignore leaves out."""
    extra = ["--others", "--exclude-standard"] if uncommitted else []
    out = subprocess.run(["git", "ls-files", "-z", "--cached", *extra, "--", *paths],
                         cwd=REPO, capture_output=True, text=True, check=True)
    return [name for name in out.stdout.split("\0") if name]


def fingerprint(names: list[str]) -> dict[str, str]:
    return {name: hashlib.sha256((REPO / name).read_bytes()).hexdigest() for name in names if (REPO / name).is_file()}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The repository's examples as git tracks them (and any not committed yet), plus the new folder; and proof afterwards
    that no tracked file outside examples/ was changed while the module ran."""
    outside = [name for name in tracked() if not name.startswith("examples/")]
    before = fingerprint(outside)
    examples = tmp_path_factory.mktemp("dropin") / "examples"
    for name in tracked("examples", uncommitted=True):
        target = examples / Path(name).relative_to("examples")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    shutil.copytree(NEW_FOLDER, examples / NEW_ID, ignore=shutil.ignore_patterns("pgx-example"))
    yield examples
    assert fingerprint(outside) == before, "a file outside examples/ changed while the new example was taken in"


def run(command: list[str], tree: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PG", "GITHUB_"))}
    return subprocess.run(command, cwd=REPO, env={**clean, "HARNESS_EXAMPLES": str(tree), "COLUMNS": "200", **env},
                          capture_output=True, text=True, timeout=600)


def real_ids() -> set[str]:
    """The repository's examples' ids, also one not committed yet (a contributor's own, in progress)."""
    committed = {str(Path(n).parent.relative_to("examples").as_posix()) for n in tracked("examples", uncommitted=True)
                 if Path(n).name == "example.yaml"}
    return {e.id for e in discover(REPO / "examples", load_spec(SPEC).names).examples
            if e.folder.relative_to(REPO / "examples").as_posix() in committed}


def test_the_tree_is_the_repository_plus_one_folder(tree: Path) -> None:
    added = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()} - {
        Path(n).relative_to("examples").as_posix() for n in tracked("examples", uncommitted=True)}
    assert added and all(name.startswith(f"{NEW_ID}/") for name in added), added


def test_discovery_lists_it(tree: Path) -> None:
    out = run([sys.executable, "-m", "harness", "list", "--json"], tree)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["errors"] == []
    assert {e["id"] for e in data["examples"]} == real_ids() | {NEW_ID}
    entry = next(e for e in data["examples"] if e["id"] == NEW_ID)
    assert entry["slug"] == "go-pgx" and entry["language"] == "go"
    assert entry["debian_packages"] == ["golang-go"]
    assert entry["system_packages"]["debian"] == [{"package": "golang-go", "command": "go"}]
    assert entry["system_packages"]["other"]
    assert [t["tool"] for t in entry["toolchains"]] == ["go"]
    assert entry["base_images"] == ["golang:1.22-bookworm", "debian:bookworm-slim"]  # the stage `build` is not one
    assert "golang-go" in data["debian_packages"] and "golang:1.22-bookworm" in data["base_images"]


def _job(workflow: dict, name: str) -> dict:
    return workflow["jobs"][name]


def test_the_workflow_matrix_contains_it(tree: Path, tmp_path: Path) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    discover_job, driver = _job(workflow, "discover"), _job(workflow, "driver")
    # The driver job's matrix is what the discovery step computes, nothing written by hand.
    assert driver["needs"] == "discover"
    assert driver["strategy"]["matrix"] == "${{ fromJSON(needs.discover.outputs.matrix) }}"
    assert discover_job["outputs"]["matrix"] == "${{ steps.list.outputs.matrix }}"
    step = next(s for s in discover_job["steps"] if s.get("id") == "list")
    # Run that step's script as GitHub runs it (bash -e, pipefail), against the temporary tree.
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    output = tmp_path / "github_output"
    output.touch()
    out = run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], tree, GITHUB_OUTPUT=str(output))
    assert out.returncode == 0, out.stderr
    include = []
    for name in ("matrix", "docker"):   # the native legs' job, the docker legs' job
        lines = [line for line in output.read_text().splitlines() if line.startswith(f"{name}=")]
        assert len(lines) == 1
        include += json.loads(lines[0].removeprefix(f"{name}="))["include"]
    assert {e["example"] for e in include} == real_ids() | {NEW_ID}
    # Every example, the new one too, gets >= 4 legs: direct, both PgBouncer modes, docker.
    legs = {example: {e["leg"] for e in include if e["example"] == example} for example in real_ids() | {NEW_ID}}
    assert all(found == {"direct", "pgbouncer-session", "pgbouncer-transaction", "docker"} for found in legs.values()), legs
    assert {"example": NEW_ID, "slug": "go-pgx", "language": "go", "leg": "docker", "artifact": "go-pgx--docker"} in include
    # Each entry gets its job, its JUnit check and its artifact from matrix.example and matrix.leg alone.
    text = yaml.safe_dump(driver)
    assert "bash ci/gh-driver.sh \"$EXAMPLE\" \"$LEG\"" in text and "junit ${{ matrix.example }} ${{ matrix.leg }}" in text
    assert _job(workflow, "docker")["strategy"]["matrix"] == "${{ fromJSON(needs.discover.outputs.docker) }}"


def test_a_broken_manifest_fails_the_discovery_step_instead_of_dropping_a_job(tree: Path, tmp_path: Path) -> None:
    broken = tmp_path / "examples"
    shutil.copytree(tree, broken, ignore=shutil.ignore_patterns("pgx-example"))
    (broken / NEW_ID / "example.yaml").write_text("id: go/pgx\nlanguage: go\n")
    out = run([sys.executable, "-m", "harness.discovery_json", "matrix"], broken)
    assert out.returncode == 1 and out.stdout == ""
    assert f"{broken / NEW_ID / 'example.yaml'}: title: is missing" in out.stderr


def test_setup_knows_its_packages(tree: Path) -> None:
    out = run(["bash", "ci/setup.sh", "--list"], tree)
    assert out.returncode == 0, out.stdout + out.stderr
    examples_line = next(line for line in out.stdout.splitlines() if line.startswith("examples: "))
    assert "golang-go" in examples_line.split()
    harness_line = next(line for line in out.stdout.splitlines() if line.startswith("harness: "))
    assert "golang-go" not in harness_line.split()
    # The CI job of one driver installs exactly that example's packages.
    out = run([sys.executable, "-m", "harness.system_packages", "--example", NEW_ID], tree)
    assert out.returncode == 0 and out.stdout.split() == ["golang-go"], out.stderr


def test_the_badge_block_would_include_it(tree: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    shutil.copy2(REPO / "README.md", readme)
    command = [sys.executable, "-m", "harness.badge_block", "--readme", str(readme)]
    stale = run([*command, "--check"], tree)
    assert stale.returncode == 1 and "+[![go/pgx]" in stale.stderr and "fix: python -m harness.badge_block" in stale.stderr
    assert run(command, tree).returncode == 0
    text = readme.read_text()
    assert ("[![go/pgx](https://img.shields.io/endpoint?url=https%3A%2F%2FOWNER.github.io%2FREPO%2Fbadges%2Fgo-pgx.json)]"
            "(https://OWNER.github.io/REPO/#example-go-pgx)") in text
    assert run([*command, "--check"], tree).returncode == 0
    # Only the block changed (it also gains an example not committed yet, whose README is regenerated with it).
    def outside_block(readme_text: str) -> str:
        return re.sub(r"<!-- badges:start.*?<!-- badges:end -->", "", readme_text, flags=re.S)
    assert outside_block(text) == outside_block((REPO / "README.md").read_text())
    before = (REPO / "README.md").read_text().splitlines()
    assert [line for line in text.splitlines() if line.startswith("[![go/pgx]")] == [
        line for line in text.splitlines() if line not in before and "go/pgx" in line]


def test_every_base_image_it_names_has_a_standin_recipe(tree: Path) -> None:
    out = run(["bash", "ci/standin-images.sh", "--recipes"], tree)
    assert out.returncode == 0, out.stderr
    recipes = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert recipes["golang:1.22-bookworm"] == "ci/standin-images/golang.Dockerfile"
    assert all(recipe for recipe in recipes.values()), f"images without a recipe: {recipes}"


def test_the_native_run_passes_it(tree: Path, tmp_path: Path) -> None:
    # The README's set-up with the new tree: it installs golang-go when no Go is on PATH (as root).
    setup = run(["bash", "ci/setup.sh"], tree)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert shutil.which("go") is not None, f"ci/setup.sh left no Go on PATH:\n{setup.stdout}"
    results = tmp_path / "results.json"
    out = run([sys.executable, "-m", "harness", "run", "--example", NEW_ID, "--remote-rtt-ms", "0",
               "--out", str(results)], tree, HARNESS_CACHE=str(tmp_path / "cache"))
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    example = json.loads(results.read_text())["examples"][0]
    assert example["id"] == NEW_ID
    outcomes = {s["name"]: s["outcome"] for s in example["scenarios"]}
    declared = yaml.safe_load((NEW_FOLDER / "example.yaml").read_text())["scenarios"]["applies"]
    assert {name: outcomes[name] for name in declared} == {name: "passed" for name in declared}
    core = [s.name for s in load_spec(SPEC).scenarios.values() if s.group == "core"]
    assert set(core) <= set(declared)


HARNESS_LIST = re.compile(r"^HARNESS_PACKAGES=\((?P<names>[^)]*)\)", re.MULTILINE)


def outside_examples() -> list[Path]:
    """What must never name an example or keep a per-language package list: the harness's code,
    the CI scripts, the workflow and .ci/run (prose docs and tests may use ids as illustrations)."""
    names = [n for n in tracked("harness", "ci", ".github", ".ci") if not n.endswith((".png", ".crt"))]
    return [REPO / n for n in names]


def test_no_file_outside_examples_names_an_example_or_its_package_list() -> None:
    examples = discover(REPO / "examples", load_spec(SPEC).names).examples
    files = {path: path.read_text(encoding="utf-8") for path in outside_examples()}
    for path, text in files.items():
        for example in examples:
            assert example.id not in text, f"{path.relative_to(REPO)} names the example {example.id}"
    # The harness's own packages (the server, Python, ...) may be listed by the scripts that install them.
    harness_own = set()
    for script in ("ci/setup.sh", "ci/gh-driver.sh"):
        for match in HARNESS_LIST.finditer((REPO / script).read_text()):
            harness_own |= set(re.sub(r"#[^\n]*", "", match["names"]).split())
    assert {"postgresql", "python3-venv"} <= harness_own
    for example in examples:
        own = set(example.system_packages.debian_names) - harness_own
        for path, text in files.items():
            if not own or path.parent.name == "standin-images":  # a base image's recipe installs its toolchain
                continue
            named = {name for name in own if re.search(rf"(?<![\w.+-]){re.escape(name)}(?![\w.+-])", text)}
            assert named != own, f"{path.relative_to(REPO)} keeps {example.id}'s package list: {sorted(own)}"
