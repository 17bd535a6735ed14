"""The documentation page built from the examples: tagged regions (regions.py), the results
snapshot the page quotes (snapshot.py), the page itself (render.py), the two-way check
(check.py), the samples index and per-block badges (samples.py). `python -m harness docs`."""

from __future__ import annotations

from typing import Any

from harness.paths import ProjectPaths


def samples_of(example_id: str) -> list[dict[str, Any]]:
    """The regions of one example as results.json records them: which code this run proved."""
    from harness.docs.regions import example_regions

    examples = ProjectPaths.default().examples
    folder = examples / example_id
    if not folder.is_dir():
        return []
    return [region.to_json() for region in example_regions(folder, examples.parent)]
