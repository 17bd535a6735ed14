"""`python -m harness.reporting`: rebuild the reports from results.json files.

  python -m harness.reporting build reports/results.json            reports next to the file
  python -m harness.reporting merge a/results.json b/results.json --out site
                                                                     one run from several (CI jobs)
  python -m harness.reporting markdown reports/results.json         a Markdown summary (CI job summary)
  python -m harness.reporting pgbouncer-table reports/results.json --readme README.md
                                                                     README's "works behind PgBouncer?" table"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness import verdict
from harness.reporting import write_reports, write_results_json
from harness.reporting.view import (PASSED, driver_figures, example_standing, failed_cases, look, matrix_rows,
                                    run_standing)


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "examples" not in data:
        raise SystemExit(f"error: {path} is not a results.json (no 'examples')")
    return data


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run of every example of several runs (a later file wins for the same example id, and
    for the lifecycle probe); it started with the first and finished with the last."""
    examples: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    probe = None
    topologies: list[str] = []
    for run in runs:
        topologies += [t for t in run.get("topologies") or ["direct"] if t not in topologies]
        for example in run.get("examples", []):
            examples[example["id"]] = _merge_cases(examples.get(example["id"]), example)
        errors += [e for e in run.get("errors", []) if e not in errors]
        probe = ((run.get("lifecycle") or {}).get("probe")) or probe

    def distinct(key: str) -> str:
        values = [str(r.get(key) or "") for r in runs]
        return ", ".join(dict.fromkeys(v for v in values if v))

    def moment(key: str, pick: Any) -> str:
        values = [str(r[key]) for r in runs if r.get(key)]
        return pick(values) if values else ""

    merged_examples = [examples[k] for k in sorted(examples)]
    merged: dict[str, Any] = {
        "schema": max((int(r.get("schema", 1)) for r in runs), default=1),
        "backend": distinct("backend"),
        "postgres": distinct("postgres"),
        "started": moment("started", min),   # ISO 8601 in UTC: the text sorts as the time
        "finished": moment("finished", max),
        "seconds": max((float(r.get("seconds") or 0) for r in runs), default=0.0),  # the jobs ran side by side
        "errors": errors,
        "topologies": topologies,
        "pooler": distinct("pooler"),
        "fixes": {name: snippet for r in runs for name, snippet in (r.get("fixes") or {}).items()},
        "examples": merged_examples,
        "lifecycle": {"probe": probe, "drivers": driver_figures(merged_examples)},
    }
    return merged


def _merge_cases(earlier: dict[str, Any] | None, later: dict[str, Any]) -> dict[str, Any]:
    """One example of two runs: their cases add up per scenario and topology (a direct job and a
    pooled job of CI); a case both ran keeps the worse outcome (the later one when they are alike)
    and says so in its `notes`. The example's own outcome is then settled by the run's rule
    (harness.verdict): failed when any case is bad or either job failed it whole."""
    if earlier is None:
        return later
    def key(case: dict[str, Any]) -> tuple[str, str]:
        return case["name"], case.get("topology", "direct")
    cases = {key(c): c for c in earlier.get("scenarios", [])}
    for case in later.get("scenarios", []):
        before = cases.get(key(case))
        cases[key(case)] = case if before is None else _merge_case(before, case)
    scenarios = list(cases.values())
    failed_whole = [e for e in (earlier, later) if e.get("outcome") == verdict.FAILED]
    outcome = verdict.example_outcome((c.get("outcome", "") for c in scenarios), failed_whole=bool(failed_whole))
    reason = verdict.failing_reason(c["name"] for c in scenarios if verdict.is_bad(c.get("outcome", "")))
    if outcome is verdict.Outcome.FAILED and not reason:
        reason = failed_whole[-1].get("reason", "") or "failed"
    return {**later, "scenarios": scenarios, "outcome": outcome.value,
            "reason": reason if outcome is verdict.Outcome.FAILED else later.get("reason", "")}


def _merge_case(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """The same case from two jobs: the worse outcome wins, with a note of the other."""
    first, second = earlier.get("outcome", ""), later.get("outcome", "")
    kept, other = (earlier, later) if verdict.rank(first) < verdict.rank(second) else (later, earlier)
    note = (f"merged: two jobs ran this case ({first}, then {second}); kept the worse, {kept.get('outcome', '')}"
            if first != second else f"merged: two jobs ran this case, both {first}; kept the later")
    if first != second and other.get("message"):
        note += f" (the other said: {other['message']})"
    return {**kept, "notes": [*earlier.get("notes", []), *later.get("notes", []), note]}


def markdown(run: dict[str, Any]) -> str:
    overall = run_standing(run)
    lines = [f"### PostgreSQL client conformance: {overall.message}", "",
             f"PostgreSQL {run.get('postgres') or '?'} · backend {run.get('backend') or '?'}", ""]
    examples = run.get("examples", [])
    if examples:
        lines.append("| scenario | " + " | ".join(f"`{e['id']}`" for e in examples) + " |")
        lines.append("|---|" + "---|" * len(examples))
        for row in matrix_rows(run):
            cells = []
            for case in row.cases:
                outcome = case.get("outcome", "") if case else ""
                shown = look(outcome)
                cells.append("" if case is None else shown.symbol if outcome == PASSED else f"{shown.symbol} {shown.word}")
            lines.append(f"| `{row.scenario}` | " + " | ".join(cells) + " |")
        lines.append("| **passing** | " + " | ".join(example_standing(e).message for e in examples) + " |")
    for example, case in failed_cases(run):
        lines += ["", f"<details><summary>✘ {example['id']} :: {case['name']}: {case.get('message', '')}</summary>",
                  "", "```", (case.get("details") or case.get("message") or "").replace("```", "'''"), "```",
                  "</details>"]
    for error in run.get("errors", []):
        lines += ["", f"**run error:** {error}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.reporting", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write junit/, badges/ and index.html next to a results.json")
    build.add_argument("results", type=Path)
    combine = sub.add_parser("merge", help="merge results.json files into OUT/results.json and write the reports there")
    combine.add_argument("results", type=Path, nargs="+")
    combine.add_argument("--out", type=Path, required=True)
    summary = sub.add_parser("markdown", help="print a Markdown summary of results.json files (merged)")
    summary.add_argument("results", type=Path, nargs="+")
    table = sub.add_parser("pgbouncer-table", help="print (or write into README.md) the 'works behind PgBouncer?' table")
    table.add_argument("results", type=Path, nargs="+")
    table.add_argument("--readme", type=Path, help="replace the table between its markers in this file")
    args = parser.parse_args(argv)

    if args.command == "build":
        paths = write_reports(load(args.results), args.results.parent)
    elif args.command == "merge":
        run = merge([load(p) for p in args.results])
        args.out.mkdir(parents=True, exist_ok=True)
        write_results_json(run, args.out / "results.json")
        paths = write_reports(run, args.out)
    elif args.command == "pgbouncer-table":
        from harness.reporting.pgbouncer import readme_table, update_readme
        run = merge([load(p) for p in args.results])
        if args.readme:
            print(f"{args.readme}: {'updated' if update_readme(args.readme, run) else 'unchanged'}")
        else:
            print(readme_table(run))
        return 0
    else:
        sys.stdout.write(markdown(merge([load(p) for p in args.results])))
        return 0
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
