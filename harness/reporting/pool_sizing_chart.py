"""The pool-size chart: throughput and mean pool wait against pool size, one line per pooled
example, the page's formula's size marked (`story_pool_sizing`)."""

from __future__ import annotations

from typing import Any


from harness.reporting.charts import BLUE, GREY, LEGEND_FONT, ORANGE, RC, VERMILLION, _data_uri, mpl

COLOURS = (BLUE, VERMILLION, ORANGE, "#009E73", "#CC79A7")
MARKERS = ("o", "s", "^", "D", "v")


def pool_sizing_chart(runs: list[tuple[str, dict[str, Any]]]) -> str | None:
    if not runs:
        return None
    with mpl().rc_context(RC):
        figure = mpl().figure.Figure(figsize=(8.6, 2.9), layout="constrained")
        throughput, wait = figure.subplots(1, 2)
        for i, (example_id, sizing) in enumerate(runs):
            sizes = [row["size"] for row in sizing["sizes"]]
            style = {"color": COLOURS[i % len(COLOURS)], "marker": MARKERS[i % len(MARKERS)], "label": example_id}
            throughput.plot(sizes, [row["throughput_per_s"] for row in sizing["sizes"]], **style)
            wait.plot(sizes, [row["wait_mean_ms"] for row in sizing["sizes"]], **style)
        formula = runs[0][1]["formula"]
        ticks = sorted({row["size"] for _, sizing in runs for row in sizing["sizes"]})
        for axes, title, label in ((throughput, "Throughput", "requests / s"),
                                   (wait, "Pool wait (mean per request)", "ms")):
            axes.set_xscale("log", base=2)
            axes.set_xticks(ticks, [str(t) for t in ticks])
            axes.minorticks_off()
            axes.axvline(formula, color=GREY, linestyle="--", linewidth=1)
            axes.annotate(f"formula: {formula}", (formula, 1), xycoords=("data", "axes fraction"),
                          xytext=(3, -10), textcoords="offset points", fontsize=8, color=GREY)
            axes.set_title(title)
            axes.set_xlabel("pool size (connections)")
            axes.set_ylabel(label)
            axes.set_ylim(bottom=0)
            axes.grid(True, axis="y")
        # Under the axes, over no line (the formula's size is one), and large enough for a phone.
        figure.legend(*throughput.get_legend_handles_labels(), loc="outside lower center", ncol=3, frameon=False,
                      fontsize=LEGEND_FONT)
        return _data_uri(figure)
