"""Results of the live benchmark as bench/live.py writes them, made up for the report's tests."""

from __future__ import annotations

from typing import Any

from bench.live import summarise


def latency(p50: float, p99: float) -> dict[str, float]:
    return {"p50_ms": p50, "p99_ms": p99, "max_ms": p99 + 1}


def results(server_messages: dict[str, float]) -> dict[str, Any]:
    rounds = summarise([{"from_start_ms": 700.0, "from_joined_ms": 80.0}], tabs=5)
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
        "tenth_tab": summarise(
            [
                {"from_navigation_ms": 900.0, "from_live_ms": 300.0},
                {"from_navigation_ms": 700.0, "from_live_ms": 200.0},
                {"from_navigation_ms": 800.0, "from_live_ms": 250.0},
            ],
            tabs=9,
        ),
        "bot": rounds,
        "blocked": {
            **summarise(
                [{"from_navigation_ms": 212.0, "from_live_ms": 7.0, "path_when_seen": "x"}]
            ),
            "paths_when_seen": ["connecting"],
            "relayed_start": latency(17.6, 20.6),
            "relayed_start_from_handling": latency(3.1, 4.2),
        },
    }
