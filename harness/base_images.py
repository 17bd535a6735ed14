"""The images an example's Dockerfile builds FROM (its base images), for `harness list --json`
and for ci/standin-images.sh, which builds a local stand-in for each when no registry answers."""

from __future__ import annotations

from pathlib import Path

from dockerfile_parse import DockerfileParser

NO_IMAGE = "scratch"  # FROM scratch starts empty: nothing to pull or stand in for


def stage_names(parser: DockerfileParser) -> set[str]:
    """`FROM image AS build` names a stage; a later `FROM build` is that stage, not an image."""
    names = set()
    for instruction in parser.structure:
        words = instruction["value"].split() if instruction["instruction"] == "FROM" else []
        if len(words) >= 3 and words[-2].lower() == "as":
            names.add(words[-1].lower())
    return names


def base_images(dockerfile: Path) -> list[str]:
    """Every image of a FROM line, once, in order, ARG defaults substituted, stages left out."""
    with dockerfile.open("rb") as handle:
        parser = DockerfileParser(fileobj=handle)
        stages = stage_names(parser)
        images = parser.parent_images
    return list(dict.fromkeys(i for i in images if i.lower() not in stages and i != NO_IMAGE))
