"""The PgBouncer matrix in the reports, from results.json alone: the HTML section with the reason
in each cell, the README's "works behind PgBouncer?" table, and merging a direct and a pooled run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.reporting.__main__ import main, merge
from harness.reporting.html import render_html
from harness.reporting.pgbouncer import (README_END, README_START, html_section, pooler_rows, readme_table,
                                        update_readme)
from harness.reporting.view import matrix_rows
from harness.runner import now


def case(name: str, topology: str, outcome: str, message: str = "") -> dict[str, Any]:
    return {"name": name, "topology": topology, "outcome": outcome, "message": message, "seconds": 0.1,
            "observed": {}, "details": "", "failure": None, "reproduce": "", "stdout": "", "stderr": ""}


def run(*cases: dict[str, Any], topologies: list[str]) -> dict[str, Any]:
    return {"schema": 1, "backend": "native", "postgres": "15.18", "pooler": "1.18.0", "topologies": topologies,
            "started": "2026-12-01T23:00:00+00:00", "finished": "2026-12-01T23:01:00+00:00", "seconds": 60,
            "errors": [], "examples": [{"id": "node/pg-client", "language": "node", "driver": "pg 8", "outcome": "passed",
                                         "reason": "", "build": {"seconds": 0, "cached": True}, "scenarios": list(cases),
                                         "samples": []}]}


AUTH_KNOWN = "known failure: PgBouncer answers a wrong password with SASL authentication failed | data.error.kind"
RUN = run(case("connect_now", "direct", "passed"), case("auth_wrong_password", "direct", "passed"),
          case("connect_now", "pgbouncer-transaction", "passed"),
          case("auth_wrong_password", "pgbouncer-transaction", "xfailed", AUTH_KNOWN),
          topologies=["direct", "pgbouncer-transaction"])


def test_the_matrix_has_a_cell_per_topology_with_its_reason() -> None:
    rows = pooler_rows(RUN)
    assert [(r.scenario, r.example) for r in rows] == [("connect_now", "node/pg-client"),
                                                       ("auth_wrong_password", "node/pg-client")]
    assert rows[1].cases["pgbouncer-transaction"]["outcome"] == "xfailed"
    page = render_html(RUN, now())
    assert 'id="pgbouncer"' in page and "SASL authentication failed" in page
    # The main matrix stays the direct one: one row per scenario.
    assert [r.scenario for r in matrix_rows(RUN)] == ["connect_now", "auth_wrong_password"]


def test_the_readme_table_answers_per_example_and_topology(tmp_path: Path) -> None:
    table = readme_table(RUN)
    assert "| `node/pg-client` | yes: 2/2 pass | yes, except known: 1/2 pass; known: auth_wrong_password |" in table
    assert ("- `auth_wrong_password`, expected failure: PgBouncer answers a wrong password with SASL authentication "
            "failed — node/pg-client (pgbouncer-transaction)") in table
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\n{README_START}\nold\n{README_END}\n\nafter\n")
    assert update_readme(readme, RUN) is True
    text = readme.read_text()
    assert "old" not in text and text.endswith("\n\nafter\n") and "yes, except known: 1/2 pass" in text
    assert update_readme(readme, RUN) is False


def test_a_direct_and_a_pooled_run_merge_into_one_matrix(tmp_path: Path) -> None:
    direct = run(case("connect_now", "direct", "passed"), topologies=["direct"])
    pooled = run(case("connect_now", "pgbouncer-session", "failed", "boom"), topologies=["pgbouncer-session"])
    merged = merge([direct, pooled])
    assert merged["topologies"] == ["direct", "pgbouncer-session"]
    assert [(c["name"], c["topology"]) for c in merged["examples"][0]["scenarios"]] == [
        ("connect_now", "direct"), ("connect_now", "pgbouncer-session")]


def test_the_table_command_prints_it(tmp_path: Path, capsys: Any) -> None:
    import json
    path = tmp_path / "results.json"
    path.write_text(json.dumps(RUN))
    assert main(["pgbouncer-table", str(path)]) == 0
    assert "| example | direct | pgbouncer-transaction |" in capsys.readouterr().out


def test_the_page_connect_times_stay_the_direct_ones() -> None:
    from harness.reporting.view import driver_figures
    direct = case("connect_latency", "direct", "passed")
    direct["observed"] = {"connect_p50_ms": 20.0, "tls": False}
    pooled = case("connect_latency", "pgbouncer-session", "passed")
    pooled["observed"] = {"connect_p50_ms": 3.0, "tls": False}
    examples = run(direct, pooled, topologies=["direct", "pgbouncer-session"])["examples"]
    assert driver_figures(examples)["node/pg-client"]["plain"]["connect_p50_ms"] == 20.0


def test_the_table_shows_a_driver_fix_as_the_snippet_a_user_pastes() -> None:
    fixed = "pgbouncer-transaction+prepareThreshold=0"
    snippet = "jdbc:postgresql://host:6432/db?prepareThreshold=0"
    pooled = {**run(case("connect_now", fixed, "passed"), topologies=["direct", fixed]),
              "fixes": {"prepareThreshold=0": snippet}}
    assert f"- `{fixed}`: the sample with a driver fix; in your own code: `{snippet}`" in readme_table(pooled)
    assert merge([pooled, RUN])["fixes"] == {"prepareThreshold=0": snippet}
    assert "in your own code" not in readme_table(RUN)
    assert f"<th>{fixed}<br><code>{snippet}</code></th>" in html_section(pooled) and "<code>" not in html_section(RUN)
