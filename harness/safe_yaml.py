"""Reading a contributor's YAML without trusting it: bounded size, UTF-8 only, no aliases (a
500-byte "billion laughs" would expand to gigabytes), no duplicate keys (the last one would
silently win), no NUL characters. Every refusal is an InputError naming the file and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode

from harness.errors import InputError

MAX_BYTES = 64 * 1024
MAX_DEPTH = 64   # far beyond any manifest or spec file; what reads the value recurses
TOO_DEEP = ("", "nests too deeply", "a manifest is a flat mapping: see docs/adding-a-driver.md")


# libyaml's parser when PyYAML has it (its wheels do): a run reads every manifest and spec file,
# about 70 ms in pure Python, 12 ms so.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc,valid-type]
    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _Refused(f"line {line}", f"repeats the key {key!r} (first on line {seen[key]})",
                               "keep one of the two: YAML would silently use the last")
            seen[key] = line
        return SafeConstructor.construct_mapping(self, node, deep=deep)


def _refuse_aliases(text: str) -> None:
    """Aliases are refused from the parser's events, before anything is composed."""
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(f"line {event.start_mark.line + 1}", f"uses the YAML alias *{event.anchor}",
                           "write the value out in full: the harness does not expand aliases (anchors and *refs)")


class _Refused(Exception):
    def __init__(self, where: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.where, self.problem, self.fix = where, problem, fix


def read_text(path: Path, limit: int = MAX_BYTES) -> str:
    """The file's text, or an InputError: a directory, a dangling link, too big, not UTF-8."""
    if path.is_symlink() and not path.exists():
        raise InputError(path, "", f"is a symbolic link to {path.readlink()}, which does not exist",
                         "point the link at a real example.yaml or remove it")
    if path.is_dir():
        raise InputError(path, "", "is a directory, not a file",
                         "the manifest must be a YAML file named example.yaml; rename the directory")
    if not path.is_file():
        raise InputError(path, "", "is not a regular file", "make example.yaml a plain YAML file")
    with path.open("rb") as f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        raise InputError(path, "", f"is larger than {limit // 1024} KiB", "a manifest is a few dozen lines: "
                         "move long text (scripts, data) into files of the example's folder")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"line {line}", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                         "save the file as UTF-8") from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise InputError(path, f"line {line}", "contains a NUL byte", "remove it: no command or text can hold one")
    return text


def load(path: Path, limit: int = MAX_BYTES) -> Any:
    text = read_text(path, limit)
    try:
        _refuse_aliases(text)
        value = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
        if _deeper_than(value, MAX_DEPTH):
            raise _Refused(*TOO_DEEP)
        return value
    except _Refused as exc:
        raise InputError(path, exc.where, exc.problem, exc.fix) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise InputError(path, where, f"is not valid YAML: {getattr(exc, 'problem', None) or exc}",
                         "fix the YAML syntax (indentation, quotes, colons)") from None
    except RecursionError:   # the pure-Python parser, without libyaml
        raise InputError(path, *TOO_DEEP) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise InputError(path, "", f"holds a value that cannot be read: {exc}",
                         "write plain numbers and strings (see docs/adding-a-driver.md)") from None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and mappings nest more than `limit` levels (without recursing itself)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def find_nul(value: Any, key: str = "") -> str | None:
    """The key of the first string holding a NUL character (YAML's "\\0" escape makes one)."""
    if isinstance(value, str):
        return key if "\0" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for name, item in items:
        sub = f"{key}{name}" if str(name).startswith("[") else (f"{key}.{name}" if key else str(name))
        found = find_nul(item, sub) or (sub if isinstance(name, str) and "\0" in name else None)
        if found:
            return found
    return None
