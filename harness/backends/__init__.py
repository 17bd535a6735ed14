"""The backends: where PostgreSQL and the examples run. A registry by name; an unknown name is
an error that lists the known ones. Each backend module defines BACKEND (a `Backend`)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.backends.base import Backend

# name -> the module that defines it; imported only when chosen (docker needs the docker SDK).
REGISTRY: dict[str, str] = {
    "native": "harness.backends.native",
    "docker": "harness.backends.docker",
}


def unknown_backend(name: str) -> HarnessError:
    return HarnessError(f"unknown backend {name!r}; known backends: {', '.join(REGISTRY)}\n"
                        f"  fix: use --backend {' or --backend '.join(REGISTRY)}")


def get_backend(name: str) -> "Backend":
    module = REGISTRY.get(name)
    if module is None:
        raise unknown_backend(name)
    backend: Backend = importlib.import_module(module).BACKEND
    return backend
