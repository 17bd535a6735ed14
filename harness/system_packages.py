"""The system packages an example declares in its manifest (`system_packages:`), and which of
them this machine still lacks. ci/setup.sh and ci/gh-driver.sh install what this prints, so no
script keeps a list per language:

    python -m harness.system_packages [--example ID ...] [--missing]

prints one Debian package per line (every example's, or only the named ones'); with --missing
only those that dpkg does not list as installed and whose command is not on PATH either (a
newer Node or Go installed from elsewhere counts as present)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.manifest import Example


@dataclass(frozen=True)
class DebianPackage:
    name: str
    command: str = ""  # a program that, when already on PATH, makes the package unnecessary


@dataclass(frozen=True)
class SystemPackages:
    debian: tuple[DebianPackage, ...] = ()
    other: str = ""  # how to get the same on other systems, where known

    @classmethod
    def from_manifest(cls, raw: dict[str, Any] | None) -> "SystemPackages":
        raw = raw or {}
        debian = tuple(DebianPackage(item) if isinstance(item, str) else DebianPackage(item["package"],
                                                                                       item.get("command", ""))
                       for item in raw.get("debian", []))
        return cls(debian, raw.get("other", ""))

    @property
    def debian_names(self) -> list[str]:
        return [package.name for package in self.debian]


def dpkg_installed(name: str) -> bool:
    if shutil.which("dpkg-query") is None:
        return False
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
    return out.returncode == 0 and "install ok installed" in out.stdout


def is_present(package: DebianPackage) -> bool:
    return bool(package.command and shutil.which(package.command)) or dpkg_installed(package.name)


def unique_packages(groups: Iterable[SystemPackages]) -> list[DebianPackage]:
    """Every Debian package once, in first-seen order (two examples may share nodejs)."""
    seen: dict[str, DebianPackage] = {}
    for group in groups:
        for package in group.debian:
            seen.setdefault(package.name, package)
    return list(seen.values())


def packages_line(example: "Example") -> str:
    """What `doctor` says about an example's packages: Debian's, marked, and the other systems' line."""
    debian = " ".join(f"{p.name}{'' if is_present(p) else ' (missing)'}" for p in example.system_packages.debian)
    line = f"Debian packages: {debian or 'none declared'}"
    return line + (f"; elsewhere: {example.system_packages.other}" if example.system_packages.other else "")


def main(argv: list[str] | None = None) -> int:
    from harness.discovery_json import load_project  # it imports the manifests, which import this module

    parser = argparse.ArgumentParser(prog="python -m harness.system_packages", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--example", action="append", default=[], metavar="ID",
                        help="only this example's packages (id, glob or language); repeatable")
    parser.add_argument("--missing", action="store_true", help="only the packages this machine lacks")
    args = parser.parse_args(argv)
    project = load_project(args.example)
    if project is None:
        return 1
    packages = unique_packages(example.system_packages for example in project[1].examples)
    for package in packages:
        if not (args.missing and is_present(package)):
            print(package.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
