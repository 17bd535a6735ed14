"""One badge per driver over all its CI legs (ci/gh-pages.sh, after the merge): each leg's
artifact folder holds leg.json (example, leg) and, when the harness ran, results.json. The
badge passes when every leg does, and otherwise says which legs failed (a leg that left no
results.json counts as failed): "failing: docker, pgbouncer-transaction".

    python -m harness.reporting.leg_badges ARTIFACTS_DIR SITE_DIR/badges"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness.reporting.badges import endpoint, svg
from harness.reporting.view import FAILED, Standing, example_standing, file_stem


def leg_outcomes(artifacts: Path) -> dict[str, dict[str, dict[str, Any] | None]]:
    """example id -> leg -> that leg's example entry (None: the leg left no results)."""
    found: dict[str, dict[str, dict[str, Any] | None]] = {}
    for leg_file in sorted(artifacts.glob("*/leg.json")):
        leg = json.loads(leg_file.read_text(encoding="utf-8"))
        results = leg_file.parent / "results.json"
        entry = None
        if results.is_file():
            run = json.loads(results.read_text(encoding="utf-8"))
            entry = next((e for e in run.get("examples", []) if e.get("id") == leg["example"]), None)
        found.setdefault(leg["example"], {})[leg["leg"]] = entry
    return found


def driver_standing(example_id: str, legs: dict[str, dict[str, Any] | None]) -> Standing:
    failed = [leg for leg, entry in legs.items() if entry is None or not example_standing(entry).ok]
    if failed:
        return Standing(example_id, f"failing: {', '.join(failed)}", "red")
    cases = [case for entry in legs.values() if entry for case in entry.get("scenarios", [])]
    outcome = FAILED if any(entry and entry.get("outcome") == FAILED for entry in legs.values()) else ""
    return example_standing({"id": example_id, "scenarios": cases, "outcome": outcome})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    artifacts, out = Path(args[0]), Path(args[1])
    out.mkdir(parents=True, exist_ok=True)
    for example_id, legs in leg_outcomes(artifacts).items():
        standing = driver_standing(example_id, legs)
        stem = file_stem(example_id)
        (out / f"{stem}.svg").write_text(svg(standing), encoding="utf-8")
        (out / f"{stem}.json").write_text(json.dumps(endpoint(standing), ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
        print(f"badge {stem}: {standing.message} ({', '.join(legs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
