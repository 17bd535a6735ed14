"""reports/simulator.html: the page's Connection Simulator as a replay of this run's measurements
(harness.reporting.simulator_view), one self-contained file: the Jinja2 template and its one
stylesheet from templates/, the data embedded as JSON, no request to anywhere (its CSP says so)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.reporting.simulator_view import simulator_data

SIMULATOR = "simulator.html"
_ENV = Environment(loader=PackageLoader("harness.reporting", "templates"), autoescape=select_autoescape(["html", "j2"]),
                   trim_blocks=True, lstrip_blocks=True)


def _embedded_json(data: dict[str, Any]) -> str:
    """JSON safe inside <script type="application/json">: no "</" can end the element early."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def render_simulator(run: dict[str, Any]) -> str:
    data = simulator_data(run)
    css = _ENV.loader.get_source(_ENV, "simulator.css")[0]   # type: ignore[union-attr]
    return _ENV.get_template("simulator.html.j2").render(data=data, data_json=_embedded_json(data), css=css)


def write_simulator(run: dict[str, Any], reports_dir: Path) -> Path:
    reports_dir.mkdir(parents=True, exist_ok=True)
    path = reports_dir / SIMULATOR
    path.write_text(render_simulator(run), encoding="utf-8")
    return path
