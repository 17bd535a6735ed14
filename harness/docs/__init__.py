"""The documentation page built from the examples: tagged regions (regions.py), the results
snapshot the page quotes (snapshot.py), the page itself (render.py), the two-way check
(check.py), the samples index and per-block badges (samples.py). `python -m harness docs`."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def samples_of(folder: Path) -> list[dict[str, Any]]:
    """The regions of one example folder (`<root>/examples/<language>/<name>`) as results.json
    records them: which code this run proved, with its hash."""
    from harness.docs.regions import example_regions

    if not folder.is_dir():
        return []
    return [region.to_json() for region in example_regions(folder, folder.parents[2])]
