"""Example manifests: discovery by glob, validation against the JSON schema, and the typed
`Example` the rest of the harness works with. Every error names the file, the key and the fix."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from harness import safe_yaml
from harness.errors import InputError
from harness.expected_error import ExpectedError, parse_expected
from harness.system_packages import SystemPackages

MANIFEST_NAME = "example.yaml"
MISNAMED = ("example.yml", "Example.yaml", "example.yaml.txt")
# Seconds: a case or a build that needs longer is a mistake in the manifest, not a slow driver.
MAX_RUN_SECONDS = 3600.0
MAX_BUILD_SECONDS = 4 * 3600.0
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
    expected: ExpectedError   # the error the failure must show to count as this known failure
    link: str = ""
    intermittent: bool = False   # fails in some runs only (timing): a pass is then not an unexpected pass
    source: str = ""   # where it is declared (the manifest, or spec/pgbouncer.yaml and its entry)


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
    # driver.statement_names: own (the code names a prepared statement) | automatic (the driver does)
    statement_names: str = "own"

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


def _get(raw: dict[str, Any], section: str, key: str) -> Any:
    part = raw.get(section)
    return part.get(key) if isinstance(part, dict) else None


def _seconds(path: Path, key: str, value: Any, limit: float) -> float | None:
    """A finite, positive number of seconds no larger than `limit` (the schema lets .nan and .inf by)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None  # absent, or not a number: the schema says so
    number = float(value)
    if not math.isfinite(number) or number <= 0 or number > limit:
        raise InputError(path, key, f"is {value!r}: it must be a number of seconds above 0 and at most {limit:.0f}",
                         f"write e.g. `{key.rsplit('.', 1)[-1]}: 60`, or leave it out for the scenario's own")
    return number


def load_manifest(path: Path, scenario_names: list[str]) -> Example:
    raw: Any = safe_yaml.load(path)
    if not isinstance(raw, dict):
        raise InputError(path, "", "must be a mapping of keys", "start from the manifest in docs/adding-a-driver.md")
    nul_key = safe_yaml.find_nul(raw)
    if nul_key:
        raise InputError(path, nul_key, "contains a NUL character (\\0)", "remove it: no command or text can hold one")
    # Before the schema, whose own message for .nan or 1e9 has no fix in it.
    run_timeout = _seconds(path, "run.timeout_seconds", _get(raw, "run", "timeout_seconds"), MAX_RUN_SECONDS)
    build_timeout = _seconds(path, "build.timeout_seconds", _get(raw, "build", "timeout_seconds"), MAX_BUILD_SECONDS)
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
        expected = parse_expected(entry.get("error"), path, f"known_failures[{i}].error")
        known_failures[entry["scenario"]] = KnownFailure(entry["scenario"], entry["reason"], expected,
                                                         entry.get("link", ""), source=str(path))
    if raw.get("docker") and not (folder / raw["docker"]["dockerfile"]).resolve().is_relative_to(folder.resolve()):
        raise InputError(path, "docker.dockerfile", f"{raw['docker']['dockerfile']!r} is outside the example's folder",
                         "keep the Dockerfile in the example's own folder and name it relative to it")
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
        run_timeout=run_timeout,
        build_command=_as_command(build["command"]) if build else None,
        build_outputs=tuple(build.get("outputs", [])),
        build_timeout=build_timeout or 900.0,
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
        statement_names=raw["driver"].get("statement_names", "own"),
    )


@dataclass
class Discovery:
    examples: list[Example]
    errors: list[InputError]
    warnings: list[str] = field(default_factory=list)


def _unread(examples_dir: Path) -> list[str]:
    """Folders whose manifest the harness cannot read (another name, a dangling link): said,
    never silently skipped."""
    warnings = []
    for link in sorted(examples_dir.glob("*/*/*")):
        if link.name == MANIFEST_NAME and link.is_symlink() and not link.exists():
            warnings.append(f"{link}: not read: a symbolic link to {os.readlink(link)}, which does not exist\n"
                            "  fix: point the link at a real example.yaml or remove it")
    for name in MISNAMED:
        for path in sorted(examples_dir.glob(f"*/*/{name}")):
            if not (path.parent / MANIFEST_NAME).exists():
                warnings.append(f"{path}: not read: the harness reads {MANIFEST_NAME}\n  fix: rename it to {MANIFEST_NAME}")
    return warnings


def discover(examples_dir: Path, scenario_names: list[str]) -> Discovery:
    """Every `<language>/<name>/example.yaml`; a broken manifest is an error, never a crash, and
    the other examples still run."""
    from harness.janitor import database_name, role_name  # the names the server knows an example by

    examples: list[Example] = []
    errors: list[InputError] = []
    seen: dict[str, Path] = {}
    server_names: dict[str, Path] = {}  # role and database names -> the manifest that has them
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
        names = [role_name(example.id), *(database_name(example.id, s) for s in scenario_names)]
        taken = [n for n in names if n in server_names]
        if taken:
            # x/dup-name and x/dup_name would share a role and its databases.
            errors.append(InputError(path, "id", f"{example.id!r} gives the same role or database name "
                                                 f"({taken[0]}) as {server_names[taken[0]]}",
                                     "rename one of the two folders so that they differ in more than - _ . or case"))
            continue
        seen[example.id] = path
        server_names.update(dict.fromkeys(names, path))
        examples.append(example)
    return Discovery(examples, errors, _unread(examples_dir))
