"""The live benchmark's round summaries (bench/live.py; nothing is run)."""

from __future__ import annotations

from bench.live import _rounds


def test_rounds_are_summarised_by_median_and_range() -> None:
    summary = _rounds(
        [{"a_ms": 3.0, "b": "x"}, {"a_ms": 1.0, "b": "y"}, {"a_ms": 2.0, "b": "z"}], tabs=2
    )
    assert summary["a_ms"] == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert summary["tabs"] == 2
    assert "b" not in summary, "only times are summarised"
