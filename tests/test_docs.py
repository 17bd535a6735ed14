"""The page's samples are the tested code: `python -m harness docs --check` against purpose-made
bad trees (tests/docs_trees, one per failure mode), the generator, the samples index, and the
repository's own committed page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.docs.regions import scan
from harness.outcome import ExampleResult
from harness.config import REPO_ROOT
from harness.docs import samples_of

TREES = Path(__file__).parent / "docs_trees"
GOOD = TREES / "good"

# bad tree -> (file:line the check must name, words of the message, words of the fix)
FAILURES = {
    "unbalanced": ("examples/demo/hello/main.py:4", "[START demo_hello] is never closed", "add [END demo_hello]"),
    "nested": ("examples/demo/hello/main.py:6", "regions do not nest", "close 'demo_hello'"),
    "duplicated": ("examples/demo/other/main.py:4", "is also used at examples/demo/hello/main.py:4",
                   "tags are unique"),
    "badly-named": ("examples/demo/hello/main.py:4", "'Demo-Hello' is not ^[a-z0-9_]+$", "'demo_hello'"),
    "block-differs": ("docs/page.md:13", "differs from its region in examples/demo/hello/main.py:5-6",
                      "edit the code in examples/demo/hello/main.py"),
    "untagged-block": ("docs/page.md:20", "a code block without a tag", "[START <tag>]/[END <tag>]"),
    "unused-region": ("examples/demo/extra/main.py:4", "region 'demo_extra' is shown on no page",
                      "<!-- sample: demo_extra -->"),
    "region-deleted": ("docs/templates/page.md:7", "the page shows region 'demo_hello', but no example has it",
                       "restore [START demo_hello]/[END demo_hello]"),
    "region-renamed": ("docs/templates/page.md:7", "no example has it (deleted or renamed?)",
                       "change the tag here to the region's new name"),
    "stale-results": ("docs/page.md:16", "is older than the code: region 'demo_hello'",
                      "run `python -m harness run --example demo/hello`, then `python -m harness docs`"),
    "no-results": ("docs/page.md:16", "has no results", "python -m harness run --example demo/hello"),
    "hand-edited": ("docs/page.md:18", "differs from what docs/templates/page.md", "edit the prose in"),
    # A count or a date of the results edited on the page: the line, what it says, the command.
    "count-edited": ("docs/page.md:16", "the page says '<sub>✔ **hello 1.0** · native (PostgreSQL 16.10): cases "
                     "passing: 3/3 direct", "then run `python -m harness docs`"),
    "date-edited": ("docs/page.md:8", "they render '| 2026-11-30 12:00:00 |", "counts, dates and figures come from "
                    "docs/page.results.json"),
}


def docs(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_ROOT": str(root), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "harness", "docs", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def tree(tmp_path: Path, bad: str | None = None) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(GOOD, root)
    if bad:
        shutil.copytree(TREES / "bad" / bad, root, dirs_exist_ok=True)
    return root


def test_every_bad_tree_has_a_test() -> None:
    assert sorted(p.name for p in (TREES / "bad").iterdir()) == sorted(FAILURES)


def test_the_good_tree_passes(tmp_path: Path) -> None:
    result = docs(tree(tmp_path), "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 block(s) on 1 page(s) match their regions" in result.stdout


@pytest.mark.parametrize("bad", sorted(FAILURES))
def test_the_check_names_file_line_and_fix(tmp_path: Path, bad: str) -> None:
    where, message, fix = FAILURES[bad]
    result = docs(tree(tmp_path, bad), "--check")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    hit = [i for i, line in enumerate(lines) if line.startswith(f"{where}: ") and message in line]
    assert hit, f"expected '{where}: ...{message}...' in:\n{result.stdout}"
    assert lines[hit[0] + 1].strip().startswith("fix:") and fix in lines[hit[0] + 1], result.stdout


def test_generating_reproduces_the_committed_good_page(tmp_path: Path) -> None:
    root = tree(tmp_path)
    committed = (root / "docs" / "page.md").read_text(encoding="utf-8")
    result = docs(root, "--results", str(root / "results.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "docs" / "page.md").read_text(encoding="utf-8") == committed


def test_a_new_run_of_changed_code_makes_the_page_current_again(tmp_path: Path) -> None:
    """stale-results is fixed the documented way: a run of the new code, then `docs`."""
    root = tree(tmp_path, "stale-results")
    regions, _ = scan(root / "examples", root)
    run = json.loads((root / "results.json").read_text(encoding="utf-8"))
    run["examples"][0]["samples"] = [r.to_json() for r in regions.values()]
    run["finished"] = "2026-12-01T08:00:00+00:00"
    (root / "results.json").write_text(json.dumps(run), encoding="utf-8")
    result = docs(root, "--results", str(root / "results.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    snapshot = json.loads((root / "docs" / "page.results.json").read_text(encoding="utf-8"))
    assert snapshot["examples"]["demo/hello"]["runs"]["native"]["first"] == "2026-12-01"  # old results dropped
    assert docs(root, "--check").returncode == 0


def test_generating_writes_the_samples_index_and_a_badge_per_block(tmp_path: Path) -> None:
    root = tree(tmp_path)
    assert docs(root, "--results", str(root / "results.json")).returncode == 0
    index = json.loads((root / "reports" / "samples.json").read_text(encoding="utf-8"))
    [block] = index["blocks"]
    assert block["page"] == "docs/page.md" and block["tag"] == "demo_hello"
    assert block["file"] == "examples/demo/hello/main.py" and block["lines"] == [5, 6]
    assert [s["name"] for s in block["scenarios"]] == ["connect_now", "select_rows"]  # n/a did not exercise it
    assert block["outcome"] == "2/2 passing" and block["fresh"] and block["postgres"] == "16.10"
    endpoint = json.loads((root / "reports" / "badges" / "sample-demo_hello.json").read_text(encoding="utf-8"))
    assert endpoint == {"schemaVersion": 1, "label": "sample demo_hello", "message": "2/2 passing",
                        "color": "brightgreen"}
    assert (root / "reports" / "badges" / "sample-demo_hello.svg").read_text(encoding="utf-8").count("2/2 passing") >= 1


def test_generating_refuses_broken_markers(tmp_path: Path) -> None:
    root = tree(tmp_path, "unbalanced")
    before = (root / "docs" / "page.md").read_text(encoding="utf-8")
    result = docs(root, "--results", str(root / "results.json"))
    assert result.returncode == 1 and "is never closed" in result.stdout
    assert (root / "docs" / "page.md").read_text(encoding="utf-8") == before


def test_results_record_the_code_each_example_proved() -> None:
    # The runner records them from the example's folder (harness/runner.py assemble_run).
    recorded = ExampleResult("node/pg-client", "node", "pg",
                             samples=samples_of(REPO_ROOT / "examples" / "node" / "pg-client")).to_json()["samples"]
    assert [s["tag"] for s in recorded] == ["node_pg_client"]
    regions, _ = scan(REPO_ROOT / "examples", REPO_ROOT)
    assert recorded[0]["sha256"] == regions["node_pg_client"].sha256


def test_each_example_shows_one_short_region_without_harness_plumbing() -> None:
    regions, problems = scan(REPO_ROOT / "examples", REPO_ROOT)
    assert not problems
    by_example = {"/".join(r.path.split("/")[1:3]) for r in regions.values()}
    examples = {p.parent.relative_to(REPO_ROOT / "examples").as_posix()
                for p in (REPO_ROOT / "examples").glob("*/*/example.yaml")}
    assert by_example == examples
    for region in regions.values():
        assert len(region.code.splitlines()) <= 32, f"{region.lines} is longer than a page's sample"
        for plumbing in ("HARNESS_", "checkpoint", "emit(", "HARNESS_OUT", "harness_out", "json.dumps"):
            assert plumbing not in region.code, f"{region.lines} contains harness plumbing: {plumbing}"


def test_the_committed_page_matches_the_examples() -> None:
    """What CI runs: the repository's own page, against its regions and its results snapshot."""
    result = docs(REPO_ROOT, "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_report_shows_each_examples_region_at_the_top_of_its_card() -> None:
    from datetime import datetime, timezone
    from html import escape

    from harness.outcome import Outcome, RunResult, ScenarioResult
    from harness.reporting.html import render_html

    example = ExampleResult("node/pg-client", "node", "pg 8.23.1",
                            samples=samples_of(REPO_ROOT / "examples" / "node" / "pg-client"))
    example.scenarios = [ScenarioResult("connect_now", Outcome.PASSED, 0.1)]
    html = render_html(RunResult("native", "15.18", [example]).to_json(), datetime.now(timezone.utc))
    card = html[html.index('id="example-node-pg-client"'):]
    regions, _ = scan(REPO_ROOT / "examples", REPO_ROOT)
    code = card.index(escape(regions["node_pg_client"].code))
    assert code < card.index('<table class="observed">')   # above the scenarios' table


FULL_RUNS = [REPO_ROOT / "tests" / "data" / "full-run-direct.json", REPO_ROOT / "tests" / "data" / "full-run-pooled.json"]


def test_a_full_direct_and_pooled_run_regenerates_the_page_with_its_counts(tmp_path: Path) -> None:
    """Trimmed results of `harness run` and `harness run --via pgbouncer-session,pgbouncer-transaction`
    (with the lifecycle probe that crashed `docs` before) make the page; a count edited on it fails."""
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "docs" / "templates", root / "docs" / "templates")
    # The examples the trimmed runs hold (6): one added since has no results there, so no block.
    ran_ids = {e["id"] for source in FULL_RUNS for e in json.loads(source.read_text(encoding="utf-8"))["examples"]}
    for example_id in sorted(ran_ids):
        shutil.copytree(REPO_ROOT / "examples" / example_id, root / "examples" / example_id,
                        ignore=shutil.ignore_patterns("node_modules", "target", "build", ".venv", "__pycache__"))
    regions, _ = scan(root / "examples", root)
    files = []
    for source in FULL_RUNS:
        run = json.loads(source.read_text(encoding="utf-8"))
        for example in run["examples"]:   # the regions as they are now, so the test outlives edits to them
            example["samples"] = [r.to_json() for r in regions.values() if r.path.startswith(f"examples/{example['id']}/")]
        files.append(tmp_path / source.name)
        files[-1].write_text(json.dumps(run), encoding="utf-8")
    result = docs(root, *[arg for f in files for arg in ("--results", str(f))])
    assert result.returncode == 0, result.stdout + result.stderr
    page = (root / "docs" / "backend-connections.md").read_text(encoding="utf-8")
    direct = json.loads(FULL_RUNS[0].read_text(encoding="utf-8"))
    client = next(e for e in direct["examples"] if e["id"] == "node/pg-client")
    ran = [c for c in client["scenarios"] if c["outcome"] not in ("not_applicable", "skipped")]
    assert f"cases passing: {len(ran)}/{len(ran)} direct, " in page and "1/1 scenarios" not in page
    assert "| direct | 141 passed, 51 n/a (192 cases of 6 examples) |" in page
    assert "| node/pg-pool | Run 2: through PgBouncer 1.18 (transaction) | passed | 0 of 288 (0) |" in page
    assert "| node/pg-pool | pgbouncer-transaction | cutover | passed | 110.9 |" in page
    assert "| python/sqlalchemy | direct | 205 | 206 → 2 | 208 → 4 (−98.1%) |" in page
    assert "| java/hikaricp | 10.7 | 43.6 | 44.0 | 31.7 | 4 |" in page
    assert "../reports/index.html" not in page and "(https://OWNER.github.io/REPO/#example-node-pg-client)" in page
    assert "`sslFromEnv`: Node's TLS options" in page and "`jdbcUrl`: builds" in page and "`user_row`:" in page
    assert docs(root, "--check").returncode == 0
    edited = page.replace(f"cases passing: {len(ran)}/{len(ran)} direct", f"cases passing: {len(ran) + 1}/{len(ran) + 1} direct", 1)
    (root / "docs" / "backend-connections.md").write_text(edited, encoding="utf-8")
    check = docs(root, "--check")
    line = next(i for i, text in enumerate(edited.splitlines(), start=1) if f"{len(ran) + 1}/{len(ran) + 1} direct" in text)
    assert check.returncode == 1 and f"docs/backend-connections.md:{line}: the page differs" in check.stdout
    assert "then run `python -m harness docs`" in check.stdout
