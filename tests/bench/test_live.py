"""The live benchmark's report section and round summaries (bench/live.py; nothing is run)."""

from __future__ import annotations

from bench.live import _rounds, render_section
from tests.bench.live_results import results


def test_rounds_are_summarised_by_median_and_range() -> None:
    summary = _rounds(
        [{"a_ms": 3.0, "b": "x"}, {"a_ms": 1.0, "b": "y"}, {"a_ms": 2.0, "b": "z"}], tabs=2
    )
    assert summary["a_ms"] == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert summary["tabs"] == 2
    assert "b" not in summary, "only times are summarised"


def test_the_section_states_every_figure_and_where_it_comes_from() -> None:
    text = render_section(results({}))
    assert text.startswith("## Live feel in the real app\n")
    assert "Measured at abc1234 on 2026-12-02" in text
    assert (
        "| drag start, pointer event → the other tab's DOM (median / p99) | 14.6 ms / 17.5 ms |"
        in text
    )
    assert "| 2.4 ms / 3.8 ms |" in text
    assert "| drop, pointer up → the other tab's DOM (median / p99) | 1.9 ms / 2.5 ms |" in text
    assert "30.1/s (sent 30.0/s, 60 pointer events/s)" in text
    assert "a tenth tab linked directly with 9" in text
    assert "800 ms (700 to 900) / 250 ms (200 to 300)" in text
    assert "the bot linked directly with 5 tabs" in text
    assert "its link then said connecting" in text
    assert "over the relay, from the pointer event / from its handling" in text
    assert "| 17.6 ms / 20.6 ms; 3.1 ms / 4.2 ms |" in text
    assert "during 40 drags between linked tabs | 0 (none) |" in text


def test_messages_the_server_did_receive_during_drags_are_named() -> None:
    text = render_section(results({"relay": 3.0, "signal": 2.0}))
    assert "during 40 drags between linked tabs | 5 (relay 3, signal 2) |" in text
