"""Example manifests: discovery by glob, validation against the JSON schema, and the typed
`Example` the rest of the harness works with. Every error names the file, the key and the fix."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from harness.errors import InputError
from harness.system_packages import SystemPackages

MANIFEST_NAME = "example.yaml"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "example.schema.json"
DEFAULT_IGNORED = {".git", "__pycache__", ".pytest_cache", ".harness"}


def marker_name(folder: str) -> str:
    """pytest marker for `-m`: an example's folder name as an identifier (pg-pool -> pg_pool)."""
    return folder.replace("-", "_").replace(".", "_")


@dataclass(frozen=True)
class Requirement:
    tool: str
    install: str
    version_command: tuple[str, ...] = ()
    min_version: str = ""  # e.g. "1.25": `doctor` and the run refuse an older tool


@dataclass(frozen=True)
class KnownFailure:
    scenario: str
    reason: str
    link: str = ""
    error: str = ""   # text the failure must show to count as this known failure ("" : any failure)


@dataclass(frozen=True)
class Example:
    id: str
    language: str
    title: str
    driver_name: str
    driver_version: str
    folder: Path
    manifest: Path
    run_command: str | tuple[str, ...]
    run_timeout: float | None = None
    build_command: str | tuple[str, ...] | None = None
    build_outputs: tuple[str, ...] = ()
    build_timeout: float = 900.0
    dockerfile: str | None = None
    requires: tuple[Requirement, ...] = ()
    system_packages: SystemPackages = SystemPackages()
    applies: tuple[str, ...] = ()
    not_applicable: dict[str, str] = field(default_factory=dict)
    known_failures: dict[str, KnownFailure] = field(default_factory=dict)
    binding: str | None = None  # driver.binding: server | client (judged by param_query)

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1]

    @property
    def driver(self) -> str:
        return f"{self.driver_name} {self.driver_version}"

    @property
    def marker(self) -> str:
        return marker_name(self.name)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def _key_of(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _explain(path: Path, error: jsonschema.ValidationError) -> InputError:
    """Turn the schema's complaint into file + key + fix."""
    key = _key_of(error)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        where = f"{key}.{extra[0]}" if key != "(top level)" and extra else (extra[0] if extra else key)
        return InputError(path, where, "is not a known key", f"remove it or use one of: {', '.join(allowed)}")
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        where = missing if key == "(top level)" else f"{key}.{missing}"
        return InputError(path, where, "is missing", f"add `{where}:` (see docs/adding-a-driver.md)")
    if error.validator == "pattern" and key == "id":
        return InputError(path, "id", f"{error.instance!r} is not <language>/<folder>",
                          f"write it as `id: {path.parent.parent.name}/{path.parent.name}`")
    if error.validator == "anyOf" and key.startswith("system_packages.debian"):
        return InputError(path, key, "must be a Debian package name",
                          "give a name (libpq-dev) or {package: nodejs, command: node}")
    if error.validator == "oneOf":
        return InputError(path, key, "must be a command", "give a list of arguments ([node, main.js]) or one shell string")
    return InputError(path, key, error.message, f"see the `{key}` key in docs/adding-a-driver.md")


def _as_command(value: str | list[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


def load_manifest(path: Path, scenario_names: list[str]) -> Example:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise InputError(path, where, f"is not valid YAML: {getattr(exc, 'problem', exc)}",
                         "fix the YAML syntax (indentation, quotes, colons)") from exc
    if not isinstance(raw, dict):
        raise InputError(path, "", "must be a mapping of keys", "start from the manifest in docs/adding-a-driver.md")
    errors = sorted(_validator().iter_errors(raw), key=lambda e: (len(e.absolute_path), e.path))
    if errors:
        raise _explain(path, errors[0])

    folder = path.parent
    expected_id = f"{folder.parent.name}/{folder.name}"
    if raw["id"] != expected_id:
        raise InputError(path, "id", f"is {raw['id']!r} but the folder says {expected_id!r}", f"set `id: {expected_id}`")
    if raw["language"] != folder.parent.name:
        raise InputError(path, "language", f"is {raw['language']!r} but the folder is under {folder.parent.name}/",
                         f"set `language: {folder.parent.name}`")

    scenarios = raw["scenarios"]
    applies = tuple(scenarios.get("applies", []))
    not_applicable = dict(scenarios.get("not_applicable") or {})
    known = set(scenario_names)
    for key, names in (("scenarios.applies", applies), ("scenarios.not_applicable", list(not_applicable))):
        for name in names:
            if name not in known:
                raise InputError(path, f"{key}: {name}", "is not a scenario of spec/scenarios/",
                                 f"use one of: {', '.join(scenario_names)}")
    both = set(applies) & set(not_applicable)
    if both:
        name = sorted(both)[0]
        raise InputError(path, f"scenarios.not_applicable.{name}", "is also under scenarios.applies",
                         "keep it in one of the two lists")
    known_failures: dict[str, KnownFailure] = {}
    for i, entry in enumerate(raw.get("known_failures") or []):
        if entry["scenario"] not in applies:
            raise InputError(path, f"known_failures[{i}].scenario", f"{entry['scenario']!r} is not under scenarios.applies",
                             "a known failure must name a scenario the example runs")
        known_failures[entry["scenario"]] = KnownFailure(entry["scenario"], entry["reason"], entry.get("link", ""))
    if raw.get("docker") and not (folder / raw["docker"]["dockerfile"]).is_file():
        raise InputError(path, "docker.dockerfile", f"{raw['docker']['dockerfile']!r} does not exist in {folder}",
                         "add the Dockerfile or correct the path")

    build = raw.get("build") or {}
    return Example(
        id=raw["id"],
        language=raw["language"],
        title=raw["title"],
        driver_name=raw["driver"]["name"],
        driver_version=str(raw["driver"]["version"]),
        folder=folder,
        manifest=path,
        run_command=_as_command(raw["run"]["command"]),
        run_timeout=raw["run"].get("timeout_seconds"),
        build_command=_as_command(build["command"]) if build else None,
        build_outputs=tuple(build.get("outputs", [])),
        build_timeout=float(build.get("timeout_seconds", 900)),
        dockerfile=(raw.get("docker") or {}).get("dockerfile"),
        requires=tuple(
            Requirement(r["tool"], r["install"], tuple(r.get("version_command", [])), str(r.get("min_version", "")))
            for r in raw.get("requires", [])
        ),
        system_packages=SystemPackages.from_manifest(raw.get("system_packages")),
        applies=applies,
        not_applicable=not_applicable,
        known_failures=known_failures,
        binding=raw["driver"].get("binding"),
    )


@dataclass
class Discovery:
    examples: list[Example]
    errors: list[InputError]


def discover(examples_dir: Path, scenario_names: list[str]) -> Discovery:
    """Every `<language>/<name>/example.yaml`; a broken manifest is an error, never a crash."""
    examples: list[Example] = []
    errors: list[InputError] = []
    seen: dict[str, Path] = {}
    for path in sorted(examples_dir.glob(f"*/*/{MANIFEST_NAME}")):
        try:
            example = load_manifest(path, scenario_names)
        except InputError as exc:
            errors.append(exc)
            continue
        if example.id in seen:
            errors.append(InputError(path, "id", f"{example.id!r} is already used by {seen[example.id]}",
                                     "give each example a unique <language>/<folder> id"))
            continue
        seen[example.id] = path
        examples.append(example)
    return Discovery(examples, errors)
