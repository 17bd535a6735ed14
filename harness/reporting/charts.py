"""The figures of index.html, drawn with matplotlib (Agg, no display) as SVG data URIs.

Colours are the Okabe-Ito palette, which stays distinguishable with every common colour-vision
deficiency; a failed case is also marked with a symbol, never by colour alone."""

from __future__ import annotations

import base64
import io
import math
import re
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402 - after choosing the backend
from matplotlib.ticker import MaxNLocator  # noqa: E402

from harness.reporting.common import BAD, XFAILED  # noqa: E402

BLUE, VERMILLION, ORANGE, GREY, INK = "#0072B2", "#D55E00", "#E69F00", "#8a8a8a", "#1f2328"
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": "#c9d1d9",
    "axes.labelcolor": "#59636e",
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#59636e",
    "ytick.color": "#59636e",
    "grid.color": "#e6e9ed",
    "svg.hashsalt": "pg-sample-harness",  # the same figure gives the same SVG
}
CONNECT_KEY = re.compile(r"^connect_(.+)_ms$")


def _data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def timeline_cases(example: dict[str, Any]) -> list[dict[str, Any]]:
    """The example's cases whose observed figures hold a connection-count timeline."""
    return [s for s in example.get("scenarios", [])
            if isinstance((s.get("observed") or {}).get("timeline"), list) and s["observed"]["timeline"]]


def timeline_chart(example: dict[str, Any]) -> str | None:
    """Small multiples: server backends of the case's database over time, one panel per pool scenario."""
    cases = timeline_cases(example)
    if not cases:
        return None
    columns = min(4, len(cases))
    rows = math.ceil(len(cases) / columns)
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(2.9 * columns, 2.05 * rows), layout="constrained")
        axes = figure.subplots(rows, columns, squeeze=False)
        for index, case in enumerate(cases):
            ax = axes[index // columns][index % columns]
            points = [(float(p[0]), float(p[1])) for p in case["observed"]["timeline"] if len(p) >= 2]
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            bad = case.get("outcome") in BAD
            colour = VERMILLION if bad else BLUE
            ax.fill_between(xs, ys, step="post", color=colour, alpha=0.14, linewidth=0)
            ax.step(xs, ys, where="post", color=colour, linewidth=1.6)
            peak = max(ys, default=0)
            ax.axhline(peak, color=GREY, linewidth=0.8, linestyle=(0, (3, 3)))
            ax.annotate(f"peak {peak:g}", xy=(1, peak), xycoords=("axes fraction", "data"), xytext=(0, 3),
                        textcoords="offset points", ha="right", va="bottom", fontsize=8, color="#59636e")
            mark = "✘ " if bad else ("(known failure) " if case.get("outcome") == XFAILED else "")
            ax.set_title(mark + case["name"], color=VERMILLION if bad else INK, loc="left")
            ax.set_ylim(0, max(peak * 1.25, 1))
            ax.set_xlim(left=0)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
            ax.grid(axis="y")
            ax.set_axisbelow(True)
            if index % columns == 0:
                ax.set_ylabel("backends")
            if index // columns == rows - 1 or index + columns >= len(cases):
                ax.set_xlabel("seconds")
        for index in range(len(cases), rows * columns):
            axes[index // columns][index % columns].set_visible(False)
    return _data_uri(figure)


def connect_figures(run: dict[str, Any]) -> dict[str, dict[str, float]]:
    """{example id: {"p50": 1.2, "p95": 3.4, ...}} from observed keys like connect_p50_ms."""
    found: dict[str, dict[str, float]] = {}
    for example in run.get("examples", []):
        for case in example.get("scenarios", []):
            for key, value in (case.get("observed") or {}).items():
                match = CONNECT_KEY.match(key)
                if match and isinstance(value, (int, float)) and not isinstance(value, bool):
                    found.setdefault(example["id"], {})[match.group(1)] = float(value)
    return found


def connect_chart(figures: dict[str, dict[str, float]]) -> str | None:
    """Horizontal bars of the median connect time per driver, whiskers up to p95 (or max) when known."""
    rows = [(example, values) for example, values in figures.items()
            if any(k in values for k in ("p50", "median", "mean"))]
    if not rows:
        return None
    rows.sort(key=lambda row: -_centre(row[1]))
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(7.5, 0.42 * len(rows) + 0.9), layout="constrained")
        ax = figure.subplots()
        labels = [example for example, _ in rows]
        centres = [_centre(values) for _, values in rows]
        highs = [max(values.get("p95", values.get("p99", values.get("max", c))), c) for (_, values), c in zip(rows, centres)]
        positions = range(len(rows))
        ax.barh(positions, centres, color=BLUE, alpha=0.85, height=0.55)
        for y, centre, high in zip(positions, centres, highs):
            if high > centre:
                ax.errorbar([centre], [y], xerr=[[0], [high - centre]], fmt="none", ecolor=INK, elinewidth=1, capsize=3)
            ax.annotate(f"{centre:.1f} ms", xy=(high, y), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=8, color=INK)
        ax.set_yticks(list(positions), labels)
        ax.set_xlabel("connect time, ms (bar: median, whisker: p95)")
        ax.set_xlim(0, max(highs) * 1.18 or 1)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
    return _data_uri(figure)


def _centre(values: dict[str, float]) -> float:
    return values.get("p50", values.get("median", values.get("mean", 0.0)))
