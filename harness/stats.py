"""Percentiles as the reports quote them (nearest-rank on the sorted samples, no interpolation:
a p95 of 30 samples is a duration that was really measured)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        raise ValueError("no samples")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """{"p50": .., "p95": .., "min": .., "max": ..}, rounded to 0.01 ms."""
    return {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2),
            "min": round(min(values), 2), "max": round(max(values), 2)}
