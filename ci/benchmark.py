#!/usr/bin/env python3
"""Prints the matrix's wall time cold (every example rebuilt) and warm (builds cached), the sum
of the example processes' own times, and what the pool scenarios add, so the harness's overhead
shows as a ratio from one run. Usage: .venv/bin/python ci/benchmark.py [--backend native] [--warm-only]"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.backends import REGISTRY  # noqa: E402
from harness.config import build_config  # noqa: E402
from harness.outcome import Outcome, RunResult  # noqa: E402
from harness.runner import Selection, planned_cases, run_matrix  # noqa: E402
from harness.session import HarnessSession  # noqa: E402


def one_run(backend: str, rebuild: bool, jobs: int = 1) -> tuple[float, RunResult]:
    start = time.monotonic()
    with HarnessSession(build_config({"backend": backend, "rebuild": rebuild})) as session:
        run = run_matrix(session, planned_cases(session.catalog, Selection()), jobs=jobs)
    return time.monotonic() - start, run


def figures(label: str, wall: float, run: RunResult) -> dict[str, float | str]:
    cases = [(e, s) for e in run.examples for s in e.scenarios if s.outcome is not Outcome.NOT_APPLICABLE]
    process = sum(float(s.observed.get("process_seconds", 0)) for _, s in cases)
    builds = sum(e.build_seconds for e in run.examples)
    core = sum(s.seconds for _, s in cases if not s.name.startswith(("pool_", "no_pool")))
    pool = sum(s.seconds for _, s in cases if s.name.startswith(("pool_", "no_pool")))
    bad = sum(1 for _, s in cases if s.outcome.is_bad)
    return {"run": label, "wall_s": round(wall, 1), "builds_s": round(builds, 1), "processes_s": round(process, 1),
            "core_cases_s": round(core, 1), "pool_cases_s": round(pool, 1), "cases": len(cases), "failed": bad,
            "overhead_ratio": round((wall - builds) / process, 2) if process else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="native", choices=tuple(REGISTRY))
    parser.add_argument("--warm-only", action="store_true")
    parser.add_argument("--jobs", type=int, default=2, help="also time a warm run with this many examples at once")
    parser.add_argument("--out", type=Path, default=Path("reports/benchmark.json"))
    args = parser.parse_args()
    rows = []
    if not args.warm_only:
        rows.append(figures("cold", *one_run(args.backend, rebuild=True)))
    rows.append(figures("warm", *one_run(args.backend, rebuild=False)))
    if args.jobs > 1:
        rows.append(figures(f"-j{args.jobs}", *one_run(args.backend, rebuild=False, jobs=args.jobs)))
    header = f"{'run':<6}{'wall':>9}{'builds':>9}{'processes':>11}{'core':>8}{'pool':>8}{'cases':>7}{'failed':>8}  overhead (wall-builds)/processes"
    print(f"benchmark: {args.backend} matrix")
    print(header)
    for r in rows:
        print(f"{r['run']:<6}{r['wall_s']:>8}s{r['builds_s']:>8}s{r['processes_s']:>10}s{r['core_cases_s']:>7}s"
              f"{r['pool_cases_s']:>7}s{r['cases']:>7}{r['failed']:>8}  {r['overhead_ratio']}x")
    warm = next(r for r in rows if r["run"] == "warm")
    print(f"warm core matrix: {warm['core_cases_s']} s (floor: < 90 s); pool scenarios add {warm['pool_cases_s']} s "
          f"(floor: < 60 s)")
    if args.jobs > 1:
        print(f"--jobs {args.jobs}: {warm['wall_s']} s -> {rows[-1]['wall_s']} s, speed-up "
              f"{float(warm['wall_s']) / float(rows[-1]['wall_s']):.2f}x (same outcomes: {rows[-1]['failed'] == warm['failed']})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"backend": args.backend, "runs": rows}, indent=2) + "\n")
    return 0 if all(r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
