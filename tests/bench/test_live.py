"""The live benchmark's report section and round summaries (bench/live.py; nothing is run)."""

from __future__ import annotations

from typing import Any

from bench.live import _rounds, render_section


def latency(p50: float, p99: float) -> dict[str, float]:
    return {"p50_ms": p50, "p99_ms": p99, "max_ms": p99 + 1}


def results(server_messages: dict[str, float]) -> dict[str, Any]:
    rounds = _rounds([{"from_start_ms": 700.0, "from_joined_ms": 80.0}], tabs=5)
    return {
        "when": "2026-12-02T12:00:00+00:00",
        "revision": "abc1234",
        "drags": {
            "drags": 40,
            "clock_offset_ms": 0.04,
            "start": latency(14.6, 17.5),
            "start_from_handling": latency(2.4, 3.8),
            "drop": latency(1.9, 2.5),
            "server_messages": {"total": sum(server_messages.values()), "by_type": server_messages},
        },
        "pointer": {
            "seconds": 3.0,
            "pointer_events_per_s": 60.0,
            "sent_per_s": 30.0,
            "seen_per_s": 30.1,
        },
        "tenth_tab": _rounds(
            [
                {"from_navigation_ms": 900.0, "from_live_ms": 300.0},
                {"from_navigation_ms": 700.0, "from_live_ms": 200.0},
                {"from_navigation_ms": 800.0, "from_live_ms": 250.0},
            ],
            tabs=9,
        ),
        "bot": rounds,
        "blocked": {
            **_rounds([{"from_navigation_ms": 212.0, "from_live_ms": 7.0, "path_when_seen": "x"}]),
            "paths_when_seen": ["connecting"],
            "relayed_start": latency(17.6, 20.6),
            "relayed_start_from_handling": latency(3.1, 4.2),
        },
    }


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
