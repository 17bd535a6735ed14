"""Reports a person reads at a glance, built from a results.json (RunResult.to_json):

  reports/results.json                                            the run, for machines
  reports/junit/<language>-<name>.xml, reports/junit/all.xml      JUnit XML for CI services
  reports/badges/<language>-<name>.svg|json, overall.svg|json     badges (SVG + shields.io endpoint)
  reports/index.html                                              the whole run on one static page
  reports/simulator.html                                          the Connection Simulator: a replay of the run
  reports/samples.json, reports/badges/sample-<tag>.svg|json      each page block: its code, what proved it

`write_run` is the one writer the CLI and the pytest plugin use. harness.reporting.view turns the
JSON into rows; the other modules only render them. `python -m harness.reporting` rebuilds the
reports from results.json files (and merges several)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.outputs import write_atomically

if TYPE_CHECKING:
    from harness.outcome import RunResult

__all__ = ["write_reports", "write_run", "Written"]


def write_results_json(run_json: dict[str, Any], path: Path) -> Path:
    # Atomically: a second run reading it, or a crash mid-write, never sees half a file.
    write_atomically(path, json.dumps(run_json, indent=2, ensure_ascii=False) + "\n")
    return path


def write_reports(run_json: dict[str, Any], reports_dir: Path) -> list[Path]:
    """Write the JUnit files, the badges and index.html under reports_dir; return every path written."""
    # Imported here: the pytest plugin and the CLI import this package on every start, and
    # matplotlib, junitparser and anybadge are only needed once a run has results.
    from harness.docs.command import write_samples_for_run
    from harness.reporting.badges import write_badges
    from harness.reporting.html import write_html
    from harness.reporting.junit import write_junit
    from harness.reporting.simulator import write_simulator
    from harness.reporting.view import run_time

    reports_dir = Path(reports_dir)
    moment = run_time(run_json)
    written = write_junit(run_json, reports_dir, moment.isoformat(timespec="seconds"))
    written += write_badges(run_json, reports_dir)
    written += write_samples_for_run(run_json, reports_dir)   # samples.json, badges/sample-<tag>.*
    written.append(write_html(run_json, reports_dir, moment))
    written.append(write_simulator(run_json, reports_dir))
    return written


@dataclass
class Written:
    results: Path
    run_json: dict[str, Any]
    reports: list[Path] = field(default_factory=list)
    error: str = ""   # why the reports beside results.json could not be written

    @property
    def index(self) -> Path:
        return self.results.parent / "index.html"


def write_run(run: "RunResult", out: Path) -> Written:
    """results.json first (it is the record), then the reports beside it."""
    run_json = run.to_json()
    written = Written(write_results_json(run_json, out), run_json)
    try:
        written.reports = write_reports(run_json, out.parent)
    except Exception as exc:  # noqa: BLE001 - results.json is written; say what the reports lack
        written.error = f"{type(exc).__name__}: {exc}"
    return written
