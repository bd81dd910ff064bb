"""Small statistics helpers: percentiles and medians, with no dependencies."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) percentile by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(max(1, math.ceil(fraction * len(ordered))), len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    """Median, ignoring NaN; NaN when nothing is left."""
    clean = [value for value in values if not math.isnan(value)]
    return statistics.median(clean) if clean else math.nan


def latency_summary(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50 and p99 of latencies in milliseconds, rounded for the report."""
    return {
        "p50_ms": round(percentile(samples_ms, 0.50), 3),
        "p99_ms": round(percentile(samples_ms, 0.99), 3),
    }
