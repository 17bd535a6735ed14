"""Reports a person reads at a glance, built from a results.json (RunResult.to_json):

  reports/junit/<language>-<name>.xml, reports/junit/all.xml      JUnit XML for CI services
  reports/badges/<language>-<name>.svg|json, overall.svg|json     badges (SVG + shields.io endpoint)
  reports/index.html                                              the whole run on one static page
  reports/samples.json, reports/badges/sample-<tag>.svg|json      each page block: its code, what proved it

`python -m harness.reporting` rebuilds them from results.json files (and merges several)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["write_reports", "run_time"]


def run_time(run_json: dict[str, Any]) -> datetime:
    """When the run happened: a `finished`/`date` field if results.json has one, else now."""
    for key in ("finished", "finished_at", "date", "started_at"):
        value = run_json.get(key)
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def write_reports(run_json: dict[str, Any], reports_dir: Path) -> list[Path]:
    """Write the JUnit files, the badges and index.html under reports_dir; return every path written."""
    # Imported here: the pytest plugin and the CLI import this package on every start, and
    # matplotlib, junitparser and anybadge are only needed once a run has results.
    from harness.docs.command import write_samples_for_run
    from harness.reporting.badges import write_badges
    from harness.reporting.html import write_html
    from harness.reporting.junit import write_junit

    reports_dir = Path(reports_dir)
    moment = run_time(run_json)
    written = write_junit(run_json, reports_dir, moment.isoformat(timespec="seconds"))
    written += write_badges(run_json, reports_dir)
    written += write_samples_for_run(run_json, reports_dir)   # samples.json, badges/sample-<tag>.*
    written.append(write_html(run_json, reports_dir, moment))
    return written
