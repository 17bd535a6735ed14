"""Discovery as data: every example with what CI needs to know about it, from its folder alone.
`python -m harness list --json` prints `document()`; the scripts around the harness read it
instead of keeping their own lists:

    python -m harness.discovery_json matrix         the GitHub Actions matrix (one line of JSON): one leg
                                                  per example x (direct, pgbouncer[-1.24]-session,
                                                  pgbouncer[-1.24]-transaction, docker)
    python -m harness.discovery_json matrix --legs native|docker   only the legs of one job kind
    python -m harness.discovery_json base-images    every image the examples' Dockerfiles (and the harness's
                                                  PgBouncer image) build FROM, one a line

Both exit 1 (and say why on stderr) when a manifest is broken, so CI never drops a job silently."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from harness.base_images import base_images
from harness.manifest import Discovery, Example, discover
from harness.pooler.container import IMAGE_DIR as POOLER_IMAGE_DIR
from harness.config import ProjectPaths, build_config
from harness.reporting.view import file_stem
from harness.runner import Selection
from harness.spec import Spec, load_spec
from harness.system_packages import unique_packages


def example_entry(example: Example, paths: ProjectPaths) -> dict[str, Any]:
    dockerfile = example.folder / example.dockerfile if example.dockerfile else None
    return {
        "id": example.id,
        "slug": file_stem(example.id),   # reports/junit/<slug>.xml, reports/badges/<slug>.svg|json
        "language": example.language,
        "name": example.name,
        "marker": example.marker,
        "title": example.title,
        "driver": example.driver,
        "folder": example.folder.relative_to(paths.examples).as_posix(),
        "system_packages": {
            "debian": [{"package": p.name, "command": p.command} for p in example.system_packages.debian],
            "other": example.system_packages.other,
        },
        "debian_packages": example.system_packages.debian_names,
        "toolchains": [{"tool": r.tool, "version_command": list(r.version_command), "install": r.install,
                        "min_version": r.min_version}
                       for r in example.requires],
        "dockerfile": example.dockerfile,
        "base_images": base_images(dockerfile) if dockerfile else [],
        "scenarios": {"applies": list(example.applies), "not_applicable": example.not_applicable},
    }


def document(spec: Spec, discovery: Discovery, paths: ProjectPaths) -> dict[str, Any]:
    examples = [example_entry(example, paths) for example in discovery.examples]
    return {
        "examples": examples,
        "scenarios": [{"name": s.name, "group": s.group, "summary": s.summary} for s in spec.scenarios.values()],
        "debian_packages": [p.name for p in unique_packages(e.system_packages for e in discovery.examples)],
        # The examples' base images, then the harness's own (its PgBouncer image, harness.pooler.container).
        "base_images": list(dict.fromkeys([*(image for entry in examples for image in entry["base_images"]),
                                           *base_images(POOLER_IMAGE_DIR / "Dockerfile")])),
        "errors": [error.render() for error in discovery.errors],
    }


# CI's legs per example: (leg, the job kind that runs it, the `harness run` arguments). The
# pgbouncer-transaction legs also run the driver-fix rows (spec/pgbouncer.yaml `fixes:`): the
# runner adds them to the topology by itself. The pgbouncer-1.24-* legs run PgBouncer 1.24.1 beside
# Debian's 1.18 (ci/gh-driver.sh builds it first with ci/pgbouncer-1.24.sh). A native leg runs in a Debian 12 job container; the
# docker leg runs on the runner itself, where the Docker engine is.
LEGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("direct", "native", ()),
    ("pgbouncer-session", "native", ("--via", "pgbouncer-session")),
    ("pgbouncer-transaction", "native", ("--via", "pgbouncer-transaction")),
    ("pgbouncer-1.24-session", "native", ("--via", "pgbouncer-1.24-session")),
    ("pgbouncer-1.24-transaction", "native", ("--via", "pgbouncer-1.24-transaction")),
    ("docker", "docker", ("--backend", "docker")),
)
LEG_NAMES = tuple(leg for leg, _, _ in LEGS)


def leg_arguments(leg: str) -> tuple[str, ...]:
    for name, _, arguments in LEGS:
        if name == leg:
            return arguments
    raise ValueError(f"unknown CI leg {leg!r}: one of {', '.join(LEG_NAMES)}")


def github_matrix(discovery: Discovery, kind: str | None = None) -> dict[str, Any]:
    """`strategy.matrix` of the workflow's leg jobs: one entry per example x leg (of one job kind)."""
    return {"include": [{"example": e.id, "slug": file_stem(e.id), "language": e.language, "leg": leg,
                         "artifact": f"{file_stem(e.id)}--{leg}"}
                        for e in discovery.examples for leg, leg_kind, _ in LEGS if kind in (None, leg_kind)]}


def load_project(patterns: list[str] | None = None) -> tuple[Spec, Discovery, ProjectPaths] | None:
    """The project as the configuration places it (HARNESS_EXAMPLES moves the examples tree), only
    the examples the patterns select; None, with the errors on stderr, when a manifest is broken."""
    paths = build_config().paths
    spec = load_spec(paths.spec)
    discovery = discover(paths.examples, spec.names)
    for error in discovery.errors:
        print(f"error: {error.render()}", file=sys.stderr)
    if discovery.errors:
        return None
    selection = Selection(tuple(patterns or ()))
    chosen = [example for example in discovery.examples if selection.wants_example(example)]
    if patterns and not chosen:
        print(f"error: no example matches {' '.join(patterns)} under {paths.examples}", file=sys.stderr)
        return None
    return spec, Discovery(chosen, []), paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.discovery_json", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["matrix", "base-images", "leg-arguments"])
    parser.add_argument("--legs", choices=sorted({kind for _, kind, _ in LEGS}),
                        help="matrix: only the legs of this job kind")
    parser.add_argument("leg", nargs="?", help="leg-arguments: the leg whose `harness run` arguments to print")
    args = parser.parse_args(argv)
    if args.what == "leg-arguments":
        try:
            print(" ".join(leg_arguments(args.leg or "")))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        return 0
    project = load_project()
    if project is None:
        return 1
    spec, discovery, paths = project
    if args.what == "matrix":
        print(json.dumps(github_matrix(discovery, args.legs), separators=(",", ":")))
    else:
        for image in document(spec, discovery, paths)["base_images"]:
            print(image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
