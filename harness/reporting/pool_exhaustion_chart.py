"""The pool-exhaustion story's chart, one per example: request latency (p50, p95, max) and what
the server saw (requests refused, peak backends against the budget), Run 1 beside Run 2, with
the page's "2 s → 50 ms" drawn as two reference lines (shown, not asserted)."""

from __future__ import annotations


from harness.reporting.charts import BLUE, GREY, LEGEND_FONT, ORANGE, RC, _data_uri, mpl
from harness.reporting.pool_exhaustion_view import SCENARIO, ExhaustionStory, StoryRun

PAGE_BEFORE_MS, PAGE_AFTER_MS = 2000, 50   # the page's "2 s → 50 ms"
WIDTH = 0.38



def _values(run: StoryRun, keys: tuple[str, ...]) -> list[float]:
    return [float(run.figures.get(key) or 0) for key in keys]


def exhaustion_chart(story: ExhaustionStory) -> str | None:
    before, after = story.before, story.after
    if before is None or after is None or not before.figures or not after.figures:
        return None
    with mpl().rc_context(RC):
        figure = mpl().figure.Figure(figsize=(8.6, 3.3), layout="constrained")
        figure.suptitle(f"{story.example}: {SCENARIO} · {before.topology} beside {after.topology}",
                        fontsize=9.5, fontweight="bold", x=0.0, ha="left")
        latency, server = figure.subplots(1, 2, width_ratios=(3, 2))
        pairs = ((before, BLUE, -WIDTH / 2, "Run 1: straight to the server"),
                 (after, ORANGE, WIDTH / 2, "Run 2: through PgBouncer"))
        keys = ("latency_p50_ms", "latency_p95_ms", "latency_max_ms")
        for run, colour, shift, label in pairs:
            bars = latency.bar([i + shift for i in range(3)], _values(run, keys), WIDTH, color=colour, label=label)
            latency.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
        for page_ms, words in ((PAGE_BEFORE_MS, "the page, before: 2 s"), (PAGE_AFTER_MS, "after: 50 ms")):
            latency.axhline(page_ms, color=GREY, linestyle="--", linewidth=1)
            latency.annotate(words, (1, page_ms), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                             textcoords="offset points", ha="right", fontsize=7, color=GREY)
        latency.set_xticks(range(3), ["p50", "p95", "max"])
        latency.set_title("Request latency (wait for a connection + query)")
        latency.set_ylabel("ms")
        # Under the axes, never over the page's 2 s line; a phone shows the figure at ~40 %, so large.
        figure.legend(*latency.get_legend_handles_labels(), loc="outside lower left", ncol=2, frameon=False,
                      fontsize=LEGEND_FONT)
        server_keys = ("refused", "server_refusals", "peak_backends")
        for run, colour, shift, _label in pairs:
            bars = server.bar([i + shift for i in range(3)], _values(run, server_keys), WIDTH, color=colour)
            server.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
        budget = float(before.figures.get("budget") or 0)
        server.axhline(budget, color=GREY, linestyle="--", linewidth=1)
        server.annotate(f"budget: {budget:.0f}", (0, budget), xycoords=("axes fraction", "data"), xytext=(2, 2),
                        textcoords="offset points", fontsize=7, color=GREY)
        server.set_xticks(range(3), ["requests\nrefused", "server\nrefusals", "peak\nbackends"])
        server.set_title("What the server saw")
        for axes in (latency, server):
            axes.set_ylim(bottom=0)
            axes.grid(True, axis="y")
        return _data_uri(figure)
