"""The relay section's reading of steps where ours cost more CPU per message than a peer."""

from __future__ import annotations

from typing import Any

from bench.report import _spread_text


def _runs(*cpu_per_step: dict[float, float]) -> list[dict[str, Any]]:
    return [
        {"steps": [{"offered_per_s": r, "server_cpu_us_per_msg": c} for r, c in run.items()]}
        for run in cpu_per_step
    ]


def test_overlapping_runs_are_read_as_spread_and_separate_ones_are_not() -> None:
    relay = {
        "ours": _runs({2000.0: 40.0, 8000.0: 18.0}, {2000.0: 46.0, 8000.0: 26.0}),
        "y-webrtc": _runs({2000.0: 28.0, 8000.0: 22.0}, {2000.0: 38.0, 8000.0: 24.0}),
        "peerjs": _runs({2000.0: 39.0, 8000.0: 28.0}, {2000.0: 44.0, 8000.0: 29.0}),
    }
    text = _spread_text(relay, [2000.0, 8000.0])
    assert (
        "At 8,000 (ours 18.0-26.0 µs, y-webrtc 22.0-24.0 µs) msg/s the runs of the two overlap"
        in text
    )
    # the cheaper peer at 2,000 is y-webrtc (median 33 against 41.5); every run of ours is above
    assert (
        "At 2,000 (ours 40.0-46.0 µs, y-webrtc 28.0-38.0 µs) msg/s every run of ours cost more"
        in text
    )
