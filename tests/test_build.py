"""The build cache: an unchanged example is built once; a changed source, a missing output or
--rebuild builds again; build outputs do not count as sources; a failed build is not cached."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from harness.build import BuildCache, source_hash
from harness.manifest import Example, load_manifest

MANIFEST = """\
id: lang/tiny
language: lang
title: a tiny example
driver: {{name: none, version: "0"}}
build:
  command: {command}
  outputs: [out]
run:
  command: [sh, -c, "true"]
scenarios:
  applies: [connect_now]
"""

# Each build appends a line to out/builds: the number of lines is the number of builds.
COUNTING_BUILD = "'mkdir -p out && echo built >> out/builds && cp main.txt out/artifact'"


def make_example(root: Path, command: str = COUNTING_BUILD) -> Example:
    folder = root / "examples" / "lang" / "tiny"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.txt").write_text("version 1\n")
    path = folder / "example.yaml"
    path.write_text(textwrap.dedent(MANIFEST.format(command=command)))
    return load_manifest(path, ["connect_now"])


def builds(example: Example) -> int:
    counter = example.folder / "out" / "builds"
    return len(counter.read_text().splitlines()) if counter.exists() else 0


@pytest.fixture()
def cache(tmp_path: Path) -> BuildCache:
    return BuildCache(tmp_path / "cache", os.environ)


def test_an_unchanged_example_is_built_once(tmp_path: Path, cache: BuildCache) -> None:
    example = make_example(tmp_path)
    first = cache.build(example)
    assert (first.ok, first.cached) == (True, False)
    assert first.log_path is not None and first.log_path.read_text().startswith("$ sh -c mkdir -p out")
    second = cache.build(example)
    assert (second.ok, second.cached) == (True, True)
    assert second.source_hash == first.source_hash
    assert builds(example) == 1  # the build's own output (out/) did not change the hash


def test_a_changed_source_rebuilds(tmp_path: Path, cache: BuildCache) -> None:
    example = make_example(tmp_path)
    first = cache.build(example)
    (example.folder / "main.txt").write_text("version 2\n")
    second = cache.build(example)
    assert (second.ok, second.cached) == (True, False)
    assert second.source_hash != first.source_hash
    assert builds(example) == 2
    assert (example.folder / "out" / "artifact").read_text() == "version 2\n"
    assert cache.build(example).cached


def test_a_new_file_rebuilds(tmp_path: Path, cache: BuildCache) -> None:
    example = make_example(tmp_path)
    cache.build(example)
    (example.folder / "lib").mkdir()
    (example.folder / "lib" / "helper.txt").write_text("x")
    assert not cache.build(example).cached
    assert builds(example) == 2


def test_a_missing_output_rebuilds(tmp_path: Path, cache: BuildCache) -> None:
    example = make_example(tmp_path)
    cache.build(example)
    (example.folder / "out" / "artifact").unlink()
    (example.folder / "out" / "builds").unlink()
    (example.folder / "out").rmdir()
    result = cache.build(example)
    assert not result.cached and result.ok
    assert (example.folder / "out" / "artifact").exists()


def test_force_rebuilds(tmp_path: Path, cache: BuildCache) -> None:
    example = make_example(tmp_path)
    cache.build(example)
    assert not cache.build(example, force=True).cached
    assert builds(example) == 2


def test_a_failed_build_is_reported_and_not_cached(tmp_path: Path, cache: BuildCache) -> None:
    example = make_example(tmp_path, command="'mkdir -p out && echo compiling >&2 && echo oops: bad syntax >&2 && exit 3'")
    first = cache.build(example)
    assert (first.ok, first.cached) == (False, False)
    assert first.message == "build exited with code 3"
    assert first.log_tail().splitlines()[-1] == "oops: bad syntax"
    second = cache.build(example)
    assert (second.ok, second.cached) == (False, False)


def test_an_example_without_a_build_needs_none(tmp_path: Path, cache: BuildCache) -> None:
    example = make_example(tmp_path)
    bare = Example(**{**example.__dict__, "build_command": None})
    result = cache.build(bare)
    assert (result.ok, result.cached) == (True, True)
    assert builds(example) == 0


def test_the_source_hash_ignores_caches_and_outputs(tmp_path: Path) -> None:
    example = make_example(tmp_path)
    before = source_hash(example)
    for ignored in ("out", "__pycache__", ".git"):
        (example.folder / ignored).mkdir(exist_ok=True)
        (example.folder / ignored / "file").write_text("noise")
    assert source_hash(example) == before
    (example.folder / "outside.txt").write_text("a source")
    assert source_hash(example) != before
