#!/usr/bin/env python3
"""Runs the whole matrix N times and reports every case whose outcome changed between runs.
Usage: .venv/bin/python ci/repeat.py [-n 10] [--example ID] [--scenario NAME] [--backend native] [-j N]
Exit 0 when all runs agree (and none failed), 1 otherwise."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.backends import REGISTRY  # noqa: E402
from harness.config import build_config  # noqa: E402
from harness.runner import Selection, planned_cases, run_matrix  # noqa: E402
from harness.schedule import default_jobs  # noqa: E402
from harness.session import HarnessSession  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument("--backend", default="native", choices=tuple(REGISTRY))
    parser.add_argument("--example", action="append", default=[])
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--out", type=Path, default=Path("reports/repeat.json"))
    parser.add_argument("-j", "--jobs", type=int, default=default_jobs(),
                        help="cases at once, as `harness run -j` (default: the harness's parallel default; 1: serial)")
    args = parser.parse_args()

    outcomes: dict[str, list[str]] = defaultdict(list)
    messages: dict[str, list[str]] = defaultdict(list)
    for i in range(1, args.runs + 1):
        start = time.monotonic()
        with HarnessSession(build_config({"backend": args.backend})) as session:
            selection = Selection(tuple(args.example), tuple(args.scenario))
            run = run_matrix(session, planned_cases(session.catalog, selection), jobs=args.jobs)
        for example in run.examples:
            for case in example.scenarios:
                key = f"{example.id}::{case.name}"
                outcomes[key].append(case.outcome.value)
                messages[key].append(case.message)
        bad = sum(1 for e in run.examples for s in e.scenarios if s.outcome.is_bad)
        print(f"run {i}/{args.runs}: {sum(len(e.scenarios) for e in run.examples)} cases, {bad} failed, "
              f"{time.monotonic() - start:.1f} s", flush=True)

    changed = {k: v for k, v in outcomes.items() if len(set(v)) > 1}
    failed = {k: v for k, v in outcomes.items() if "failed" in v or "xpassed" in v}
    for key, values in sorted(changed.items()):
        print(f"CHANGED {key}: {' '.join(values)}")
        for i, (value, message) in enumerate(zip(values, messages[key]), 1):
            if value in ("failed", "xpassed"):
                print(f"    run {i}: {message[:200]}")
    verdict = "all runs agree" if not changed else f"{len(changed)} case(s) changed outcome"
    print(f"{args.runs} runs x {len(outcomes)} cases: {verdict}; {len(failed)} case(s) failed at least once")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": args.runs, "changed": changed, "outcomes": outcomes}, indent=2) + "\n")
    return 0 if not changed and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
