"""Manifest discovery: every broken manifest is an error naming the file, the key and a fix,
and the valid examples of the same folder are still discovered."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.manifest import discover, load_manifest
from harness.spec import load_spec
from tests.support import SPEC

SCENARIOS = load_spec(SPEC).names

VALID = """\
id: {id}
language: {language}
title: a sample
driver: {{name: somedriver, version: "1.0"}}
run:
  command: [python3, main.py]
  timeout_seconds: 5
scenarios:
  applies: [connect_now, select_rows]
  not_applicable:
    types: "no types here"
"""


def write(root: Path, example_id: str, text: str) -> Path:
    folder = root / example_id
    folder.mkdir(parents=True)
    path = folder / "example.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def valid(example_id: str) -> str:
    return VALID.format(id=example_id, language=example_id.split("/")[0])


@pytest.fixture()
def examples_dir(tmp_path: Path) -> Path:
    write(tmp_path, "lang/good-one", valid("lang/good-one"))
    write(tmp_path, "other/good-two", valid("other/good-two"))
    write(tmp_path, "lang/unknown-key", valid("lang/unknown-key") + "colour: blue\n")
    write(tmp_path, "lang/no-run-command", valid("lang/no-run-command").replace("  command: [python3, main.py]\n", ""))
    write(tmp_path, "lang/bad-scenario",
          valid("lang/bad-scenario").replace("[connect_now, select_rows]", "[connect_now, select_everything]"))
    write(tmp_path, "lang/bad-yaml", valid("lang/bad-yaml").replace("title: a sample", "title: [unclosed"))
    write(tmp_path, "lang/wrong-id", valid("lang/wrong-id").replace("id: lang/wrong-id", "id: lang/other-name"))
    return tmp_path


def errors_by_example(examples_dir: Path) -> dict[str, InputError]:
    discovery = discover(examples_dir, SCENARIOS)
    return {Path(e.file).parent.name: e for e in discovery.errors}


def test_valid_examples_are_discovered_next_to_broken_ones(examples_dir: Path) -> None:
    discovery = discover(examples_dir, SCENARIOS)
    assert [e.id for e in discovery.examples] == ["lang/good-one", "other/good-two"]
    assert sorted(Path(e.file).parent.name for e in discovery.errors) == \
        ["bad-scenario", "bad-yaml", "no-run-command", "unknown-key", "wrong-id"]
    good = discovery.examples[0]
    assert good.run_command == ("python3", "main.py")
    assert good.run_timeout == 5
    assert good.applies == ("connect_now", "select_rows")
    assert good.not_applicable == {"types": "no types here"}


def test_every_error_names_the_file(examples_dir: Path) -> None:
    for name, error in errors_by_example(examples_dir).items():
        assert error.file == str(examples_dir / "lang" / name / "example.yaml")
        assert error.render().startswith(f"{error.file}: ")
        assert "\n  fix: " in error.render()


def test_unknown_key(examples_dir: Path) -> None:
    error = errors_by_example(examples_dir)["unknown-key"]
    assert (error.key, error.problem) == ("colour", "is not a known key")
    assert error.fix == ("remove it or use one of: build, docker, driver, id, known_failures, language, pooler, requires, "
                         "run, scenarios, system_packages, title")


def test_missing_run_command(examples_dir: Path) -> None:
    error = errors_by_example(examples_dir)["no-run-command"]
    assert (error.key, error.problem) == ("run.command", "is missing")
    assert error.fix == "add `run.command:` (see docs/adding-a-driver.md)"


def test_unknown_scenario_name(examples_dir: Path) -> None:
    error = errors_by_example(examples_dir)["bad-scenario"]
    assert (error.key, error.problem) == ("scenarios.applies: select_everything", "is not a scenario of spec/scenarios/")
    assert error.fix.startswith("use one of: connect_now, select_rows, ")


def test_bad_yaml(examples_dir: Path) -> None:
    error = errors_by_example(examples_dir)["bad-yaml"]
    assert error.key == "line 4"
    assert error.problem.startswith("is not valid YAML: ")
    assert error.fix == "fix the YAML syntax (indentation, quotes, colons)"


def test_id_not_matching_the_folder(examples_dir: Path) -> None:
    error = errors_by_example(examples_dir)["wrong-id"]
    assert (error.key, error.problem) == ("id", "is 'lang/other-name' but the folder says 'lang/wrong-id'")
    assert error.fix == "set `id: lang/wrong-id`"


@pytest.mark.parametrize(("edit", "key", "problem"), [
    (lambda t: t.replace("language: lang", "language: other"), "language", "is 'other' but the folder is under lang/"),
    (lambda t: t.replace("  not_applicable:\n", "  not_applicable:\n    select_rows: twice\n"),
     "scenarios.not_applicable.select_rows", "is also under scenarios.applies"),
    (lambda t: t + "known_failures:\n  - {scenario: types, reason: r}\n",
     "known_failures[0].scenario", "'types' is not under scenarios.applies"),
    (lambda t: t + "docker: {dockerfile: Dockerfile}\n", "docker.dockerfile", "'Dockerfile' does not exist in"),
    (lambda t: t.replace("command: [python3, main.py]", "command: []"), "run.command", "must be a command"),
])
def test_more_manifest_errors(tmp_path: Path, edit, key: str, problem: str) -> None:
    path = write(tmp_path, "lang/x", edit(valid("lang/x")))
    with pytest.raises(InputError) as caught:
        load_manifest(path, SCENARIOS)
    assert caught.value.key == key
    assert caught.value.problem.startswith(problem)

