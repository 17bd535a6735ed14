"""The figures of index.html, drawn with matplotlib (Agg, no display) as SVG data URIs.

Colours are the Okabe-Ito palette, which stays distinguishable with every common colour-vision
deficiency; a failed case is also marked with a symbol, never by colour alone."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from harness.reporting.view import BAD, XFAILED, ConnectRow, case_title

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@cache
def mpl() -> ModuleType:
    """matplotlib, imported the first time a chart has data (a second of CPU a run otherwise)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.figure
    import matplotlib.ticker
    return matplotlib

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


def _data_uri(figure: Figure, tight: bool = True) -> str:
    """tight: crop to what was drawn (a second draw); a figure laid out by fixed margins needs none."""
    buffer = io.BytesIO()
    with mpl().rc_context(RC):
        figure.savefig(buffer, format="svg", bbox_inches="tight" if tight else None, metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def timeline_cases(example: dict[str, Any]) -> list[dict[str, Any]]:
    """The example's cases whose observed figures hold a connection-count timeline."""
    return [s for s in example.get("scenarios", [])
            if isinstance((s.get("observed") or {}).get("timeline"), list) and s["observed"]["timeline"]]


# The timeline panels' margins, in inches. Fixed, not constrained layout: an example's ten panels
# drawn twice (layout, then crop) took 0.8 s of the report's time at a run's end; by margins, 0.3 s.
PANEL_SIZE = (2.9, 2.05)
PANEL_MARGINS = {"left": 0.5, "right": 0.12, "top": 0.45, "bottom": 0.45, "between_x": 0.45, "between_y": 0.75}


def _panel_grid(columns: int, rows: int) -> dict[str, float]:
    """subplots_adjust's fractions for PANEL_MARGINS on a columns x rows grid of PANEL_SIZE."""
    width, height = PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows
    m = PANEL_MARGINS
    axes_width = (width - m["left"] - m["right"] - (columns - 1) * m["between_x"]) / columns
    axes_height = (height - m["top"] - m["bottom"] - (rows - 1) * m["between_y"]) / rows
    return {"left": m["left"] / width, "right": 1 - m["right"] / width, "bottom": m["bottom"] / height,
            "top": 1 - m["top"] / height, "wspace": m["between_x"] / axes_width, "hspace": m["between_y"] / axes_height}


def timeline_chart(example: dict[str, Any]) -> str | None:
    """Small multiples: server backends of the case's database over time, one panel per pool scenario."""
    cases = timeline_cases(example)
    if not cases:
        return None
    columns = min(4, len(cases))
    rows = math.ceil(len(cases) / columns)
    with mpl().rc_context(RC):
        figure = mpl().figure.Figure(figsize=(PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows))
        figure.subplots_adjust(**_panel_grid(columns, rows))
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
            ax.set_title(mark + case_title(case).replace(" · ", "\n· ", 1), color=VERMILLION if bad else INK, loc="left")
            ax.set_ylim(0, max(peak * 1.25, 1))
            ax.set_xlim(left=0)
            ax.yaxis.set_major_locator(mpl().ticker.MaxNLocator(integer=True, nbins=4))
            ax.xaxis.set_major_locator(mpl().ticker.MaxNLocator(nbins=4))
            ax.grid(axis="y")
            ax.set_axisbelow(True)
            if index % columns == 0:
                ax.set_ylabel("backends")
            if index // columns == rows - 1 or index + columns >= len(cases):
                ax.set_xlabel("seconds")
        for index in range(len(cases), rows * columns):
            axes[index // columns][index % columns].set_visible(False)
    return _data_uri(figure, tight=False)


STEP_COLOURS = {"resolve": GREY, "tcp": "#56B4E9", "tls": ORANGE, "auth": VERMILLION, "ready": "#CC79A7",
                "query": "#009E73"}
CLAIM_COLOUR = "#F0E442"
LEGEND_FONT = 11   # outside the axes (over no bar or line); a phone shows a 7.5 in figure at ~45 %


def _claim_band(ax: Any, claim: list[float] | None, label: str) -> None:
    if claim and len(claim) == 2:
        ax.axvspan(claim[0], claim[1], color=CLAIM_COLOUR, alpha=0.35, lw=0, label=label)


def waterfall_chart(figures_by_mode: dict[str, Any], claim: list[float] | None, claim_label: str) -> str | None:
    """The probe's steps at their medians, one after the other, without and with TLS, over the
    band the page claims."""
    modes = [(m, figures_by_mode[m]) for m in ("plain", "tls") if isinstance(figures_by_mode.get(m), dict)]
    if not modes:
        return None
    with mpl().rc_context(RC):
        figure = mpl().figure.Figure(figsize=(7.5, 2.1), layout="constrained")
        ax = figure.subplots()
        _claim_band(ax, claim, claim_label)
        seen: set[str] = set()
        for y, (_mode, figures) in enumerate(modes):
            left = 0.0
            for step, values in figures["steps"].items():
                width = float(values["p50"])
                ax.barh([y], [width], left=[left], height=0.5, color=STEP_COLOURS.get(step, INK),
                        label=step if step not in seen else None, edgecolor="white", linewidth=0.6)
                seen.add(step)
                left += width
            ax.annotate(f"{left:.1f} ms", xy=(left, y), xytext=(6, 0), textcoords="offset points", va="center",
                        fontsize=8, color=INK)
        ax.set_yticks(range(len(modes)), [("without TLS" if m == "plain" else "TLS, verify-full") for m, _ in modes])
        ax.invert_yaxis()
        ax.set_xlabel("ms, median of each step")
        ax.set_xlim(left=0)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=4, frameon=False,
                      fontsize=LEGEND_FONT)
    return _data_uri(figure)


def connect_chart(connect_rows: list[ConnectRow], local_claim: list[float] | None) -> str | None:
    """Per driver, the median new-connection time without and with TLS (whisker: p95), beside the
    probe's and the page's claim."""
    # The local probe only: the simulated link's figures would dwarf every local bar.
    rows = [(row.label, row.plain, row.tls) for row in connect_rows if not row.remote]
    if not rows:
        return None
    claim = local_claim or [0, 1]
    with mpl().rc_context(RC):
        figure = mpl().figure.Figure(figsize=(7.5, 0.55 * len(rows) + 1.2), layout="constrained")
        ax = figure.subplots()
        _claim_band(ax, local_claim, "the page: new local connection")
        highs: list[float] = [float(claim[1])]
        for offset, mode_index, colour, label in ((-0.17, 1, BLUE, "without TLS"), (0.17, 2, VERMILLION, "TLS")):
            labelled = False
            for y, row in enumerate(rows):
                figures = row[mode_index]
                if "connect_p50_ms" not in figures:
                    continue
                p50 = float(figures["connect_p50_ms"])
                p95 = max(p50, float(figures.get("connect_p95_ms", p50)))
                ax.barh([y + offset], [p50], height=0.32, color=colour, alpha=0.9, label=None if labelled else label)
                labelled = True
                ax.errorbar([p50], [y + offset], xerr=[[0], [p95 - p50]], fmt="none", ecolor=INK, elinewidth=1, capsize=2.5)
                ax.annotate(f"{p50:.1f}", xy=(p95, y + offset), xytext=(4, 0), textcoords="offset points",
                            va="center", fontsize=7.5, color=INK)
                highs.append(p95)
        ax.set_yticks(range(len(rows)), [row[0] for row in rows])
        ax.invert_yaxis()
        ax.set_xlabel("new connection, ms (bar: median, whisker: p95)")
        ax.set_xlim(0, max(highs) * 1.15)
        ax.grid(axis="x")
        ax.set_axisbelow(True)
        figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False,
                      fontsize=LEGEND_FONT)
    return _data_uri(figure)
