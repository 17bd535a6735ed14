"""What each case cost the last time it ran, kept in the cache for harness.schedule: its seconds
(per backend: a container adds its own start-up) and the share of a core its processes kept busy
(CPU seconds over wall seconds, measured natively, where PID 1 of the case's namespace sums the
CPU time of everything it reaped). Every run updates the entries of the cases it ran, whatever its
--out; a missing or unreadable file only means nothing is known yet."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.outcome import ScenarioResult

FILE_NAME = "case-costs.json"
# Shipped beside the examples, measured on a 2-core machine like CI's: a fresh clone's first run
# (and CI's) schedules by them instead of weighing every case a whole core; a driver just dropped
# in has none until its first run. `python -m harness.case_costs` writes it from this machine's file.
SEED_NAME = "case-costs.seed.json"


def key(example_id: str, case_key: str) -> str:
    """'<id>::<case key>': how a case is known to the cache, the schedule, the gate and pytest's batch."""
    return f"{example_id}::{case_key}"


@dataclass(frozen=True)
class CaseCosts:
    seconds: dict[str, float] = field(default_factory=dict)     # key -> seconds, on the run's backend
    cpu_share: dict[str, float] = field(default_factory=dict)   # key -> CPU seconds per second of its process


def _read(path: Path) -> dict[str, dict[str, float]]:
    try:
        document = json.loads(path.read_text())
        return {name: {k: float(v) for k, v in table.items()} for name, table in document.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def load(cache: Path, backend: str, seed: Path | None = None) -> CaseCosts:
    """This machine's measurements, over the shipped ones (`seed`) for the cases it has not run yet."""
    shipped = _read(seed) if seed is not None else {}
    document = _read(cache / FILE_NAME)

    def table(name: str) -> dict[str, float]:
        return {**shipped.get(name, {}), **document.get(name, {})}

    return CaseCosts(seconds=table(f"seconds:{backend}"), cpu_share=table("cpu_share"))


def of_run(cache: Path, examples: Path, backend: str) -> CaseCosts:
    """What a run schedules by: the cache's measurements over those shipped beside the examples."""
    return load(cache, backend, seed=examples / SEED_NAME)


def write_seed(cache: Path, examples: Path) -> int:
    """examples/SEED_NAME from this machine's file: the entries of the examples under `examples`.
    Returns how many entries it wrote."""
    ids = {str(manifest.parent.relative_to(examples)) for manifest in examples.glob("*/*/example.yaml")}
    document = {name: {k: v for k, v in sorted(entries.items()) if k.split("::", 1)[0] in ids}
                for name, entries in sorted(_read(cache / FILE_NAME).items())}
    (examples / SEED_NAME).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return sum(len(entries) for entries in document.values())


def record(cache: Path, backend: str, results: Mapping[str, Mapping[str, ScenarioResult]]) -> None:
    """Merge a run's measured cases into the file (atomically: parallel runs may share a cache)."""
    path = cache / FILE_NAME
    document = _read(path)
    seconds, shares = document.setdefault(f"seconds:{backend}", {}), document.setdefault("cpu_share", {})
    for example_id, found in results.items():
        for case, result in found.items():
            process = float(result.observed.get("process_seconds") or 0.0)
            if process <= 0:
                continue   # did not run its process: not applicable, or failed before it
            seconds[key(example_id, case)] = round(result.seconds, 3)
            cpu = result.observed.get("process_cpu_seconds")
            if cpu is not None:
                shares[key(example_id, case)] = round(min(1.0, float(cpu) / process), 3)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=cache, prefix=".case-costs-", delete=False) as out:
            json.dump(document, out, indent=1, sort_keys=True)
    except OSError:
        return   # a read-only cache costs the next run its schedule, not its verdicts
    try:
        os.replace(out.name, path)
    except OSError:
        Path(out.name).unlink(missing_ok=True)


if __name__ == "__main__":
    from harness.config import build_config

    paths = build_config().paths
    count = write_seed(paths.cache, paths.examples)
    print(f"case-costs: {count} entries from {paths.cache / FILE_NAME} written to {paths.examples / SEED_NAME}")
