"""`python -m harness.reporting`: rebuild the reports from results.json files.

  python -m harness.reporting build reports/results.json            reports next to the file
  python -m harness.reporting merge a/results.json b/results.json --out site
                                                                     one run from several (CI jobs)
  python -m harness.reporting markdown reports/results.json         a Markdown summary (CI job summary)"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.reporting import write_reports
from harness.reporting.badges import example_badge, overall_badge
from harness.reporting.common import scenario_order
from harness.reporting.html import CELL


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "examples" not in data:
        raise SystemExit(f"error: {path} is not a results.json (no 'examples')")
    return data


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run of every example of several runs (a later file wins for the same example id)."""
    examples: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for run in runs:
        for example in run.get("examples", []):
            examples[example["id"]] = example
        errors += [e for e in run.get("errors", []) if e not in errors]

    def distinct(key: str) -> str:
        values = [str(r.get(key) or "") for r in runs]
        return ", ".join(dict.fromkeys(v for v in values if v))

    merged: dict[str, Any] = {
        "schema": max((int(r.get("schema", 1)) for r in runs), default=1),
        "backend": distinct("backend"),
        "postgres": distinct("postgres"),
        "seconds": max((float(r.get("seconds") or 0) for r in runs), default=0.0),
        "errors": errors,
        "examples": [examples[k] for k in sorted(examples)],
    }
    return merged


def markdown(run: dict[str, Any]) -> str:
    overall = overall_badge(run)
    lines = [f"### PostgreSQL client conformance: {overall.message}", "",
             f"PostgreSQL {run.get('postgres') or '?'} · backend {run.get('backend') or '?'}", ""]
    examples = run.get("examples", [])
    if examples:
        lines.append("| scenario | " + " | ".join(f"`{e['id']}`" for e in examples) + " |")
        lines.append("|---|" + "---|" * len(examples))
        for name in scenario_order(run):
            cells = []
            for example in examples:
                case = next((s for s in example.get("scenarios", []) if s["name"] == name), None)
                if case is None:
                    cells.append("")
                    continue
                symbol, word, _ = CELL.get(case.get("outcome", ""), ("?", case.get("outcome", ""), ""))
                cells.append(symbol if word == "passed" else f"{symbol} {word}")
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
        lines.append("| **passing** | " + " | ".join(example_badge(e).message for e in examples) + " |")
    for example in examples:
        for case in example.get("scenarios", []):
            if case.get("outcome") in ("failed", "xpassed"):
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
    args = parser.parse_args(argv)

    if args.command == "build":
        paths = write_reports(load(args.results), args.results.parent)
    elif args.command == "merge":
        run = merge([load(p) for p in args.results])
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        paths = write_reports(run, args.out)
    else:
        sys.stdout.write(markdown(merge([load(p) for p in args.results])))
        return 0
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
