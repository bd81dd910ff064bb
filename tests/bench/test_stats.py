"""bench/stats.py: the percentiles and medians every figure of the report is made of."""

from __future__ import annotations

import math

import pytest

from bench.stats import latency_summary, median, percentile


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.0, 1.0), (0.5, 50.0), (0.99, 99.0), (0.999, 100.0), (1.0, 100.0)]
)
def test_percentiles_are_taken_by_nearest_rank(fraction: float, expected: float) -> None:
    values = [float(v) for v in range(100, 0, -1)]  # order does not matter
    assert percentile(values, fraction) == expected


def test_no_values_have_no_percentile_and_nan_is_left_out_of_a_median() -> None:
    assert math.isnan(percentile([], 0.5))
    assert median([3.0, math.nan, 1.0, 2.0]) == 2.0
    assert math.isnan(median([math.nan]))


def test_a_latency_summary_rounds_p50_and_p99() -> None:
    assert latency_summary([0.1234, 5.0, 0.2, 3.0004]) == {"p50_ms": 0.2, "p99_ms": 5.0}
    assert latency_summary([0.12345]) == {"p50_ms": 0.123, "p99_ms": 0.123}
    assert math.isnan(latency_summary([])["p99_ms"])
