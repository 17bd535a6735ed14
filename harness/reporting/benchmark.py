"""The benchmark's figures (ci/benchmark.py writes reports/benchmark.json) as a section of the
HTML report: each backend's runs side by side, the critical path, and each goal met or not."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

BENCHMARK_FILE = "benchmark.json"
RUNS = (("cold_default", "cold, default parallelism"), ("warm_serial", "warm, serial (-j 1)"),
        ("warm_default", "warm, default parallelism"))


def read_benchmark(reports_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((reports_dir / BENCHMARK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("backends"), dict) else None


def _e(value: Any) -> str:
    return html.escape(str(value))


def benchmark_section(bench: dict[str, Any] | None) -> str:
    if not bench:
        return ""
    rows = []
    for backend, data in bench["backends"].items():
        for key, label in RUNS:
            run = data.get(key)
            if run:
                walls = ", ".join(f"{w:g}" for w in run.get("walls_s", [run["wall_s"]]))
                rows.append(f"<tr><td>{_e(backend)}</td><td>{_e(label)}</td><td>{run['jobs']}</td>"
                            f"<td>{run['wall_s']:g} s</td><td>{_e(walls)}</td><td>{run['builds_s']:g} s</td>"
                            f"<td>{run['processes_s']:g} s</td><td>{run['overhead_ratio']:g}×</td><td>{run['failed']}</td></tr>")
        bare, path = data.get("bare", {}), data.get("critical_path", {})
        rows.append(f"<tr><td>{_e(backend)}</td><td>bare processes, no harness</td><td>1</td>"
                    f"<td>{bare.get('wall_s', 0):g} s</td><td></td><td></td><td></td>"
                    f"<td>harness serial / bare {data.get('harness_over_bare', 0):g}×</td><td></td></tr>")
        rows.append(f"<tr><td>{_e(backend)}</td><td>critical path (bound)</td><td></td><td>{path.get('bound_s', 0):g} s</td>"
                    f"<td colspan=\"5\">restart cases alone {path.get('exclusive_s', 0):g} s + CPU work per core "
                    f"{path.get('cpu_work_per_core_s', 0):g} s; longest case {path.get('longest_case_s', 0):g} s: "
                    f"{_e(path.get('longest_case', ''))}</td></tr>")
    head = ("<tr><th>backend</th><th>run</th><th>jobs</th><th>wall (median)</th><th>every run</th><th>builds</th>"
            "<th>example processes</th><th>(wall − builds) / processes</th><th>failed</th></tr>")
    goals = "".join(f"<li><strong>{'met' if met else 'NOT MET'}</strong>: {_e(goal)}: {_e(detail)}</li>"
                    for goal, met, detail in bench.get("goals", []))
    return (f'<h2 id="benchmark">Benchmark</h2><p>{_e(bench.get("measured_at", ""))} on {_e(bench.get("machine", ""))}; '
            f"warm figures are the median of {bench.get('repeat', 1)} runs (a shared machine varies).</p>"
            f'<table class="connect">{head}{"".join(rows)}</table><ul>{goals}</ul>')
