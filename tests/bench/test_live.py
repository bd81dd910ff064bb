"""bench/live.py's summary of its rounds (nothing is run)."""

from __future__ import annotations

from bench.live import summarise


def test_rounds_are_summarised_by_count_median_and_range() -> None:
    summary = summarise(
        [{"a_ms": 3.0, "b": "x"}, {"a_ms": 1.0, "b": "y"}, {"a_ms": 2.0, "b": "z"}], tabs=2
    )
    assert summary == {"tabs": 2, "rounds": 3, "a_ms": {"median": 2.0, "min": 1.0, "max": 3.0}}
