"""The relay section: steps where ours cost more CPU per message than a peer; write calls;
the fan-out section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.report import _fan_out_section, _spread_text, _writes_rows, relay_medians


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


def _relay_step(rate: float, writes: float | None) -> dict[str, Any]:
    step = {
        "offered_per_s": rate,
        "p50_ms": 1.0,
        "p99_ms": 2.0,
        "server_cpu_us_per_msg": 30.0,
        "achieved_per_s": rate,
        "generator_bound": False,
        "sustained": True,
    }
    return step if writes is None else {**step, "server_writes_per_msg": writes}


def test_write_calls_per_message_are_tabled_at_the_given_rates_when_measured() -> None:
    medians = {
        "ours": relay_medians(
            [
                {"steps": [_relay_step(1000, 1.0), _relay_step(40000, 0.5)]},
                {"steps": [_relay_step(1000, 1.02), _relay_step(40000, 0.7)]},
                {"steps": [_relay_step(1000, 1.0), _relay_step(40000, 0.6)]},
            ]
        ),
        "y-webrtc": relay_medians([{"steps": [_relay_step(1000, 1.0), _relay_step(40000, 1.0)]}]),
        # results from before write calls were counted
        "peerjs": relay_medians([{"steps": [_relay_step(1000, None)]}]),
    }
    rows = _writes_rows(medians, [40000.0, 1000.0, float("nan"), 1000.0])
    assert rows == [
        ["server write calls per delivered message at 1,000 msg/s", "1.00", "1.00", "n/a"],
        ["server write calls per delivered message at 40,000 msg/s", "0.60", "1.00", "n/a"],
    ]
    old = {s: relay_medians([{"steps": [_relay_step(1000, None)]}]) for s in medians}
    assert _writes_rows(old, [1000.0]) == []


def _fan_run(rate: float, window: int = 8) -> dict[str, Any]:
    return {
        "room_size": 50,
        "events": 2000,
        "window": window,
        "deliveries_per_s": rate,
        "event_p99_ms": 5.0,
        "server_cpu_us_per_delivery": 8.0,
        "server_cpu_share": 0.9,
        "generator_cpu_share": 0.9,
    }


def test_fan_out_section_states_the_run_it_reports_and_rates_ours_against_the_best_peer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bench.report.PLOTS", tmp_path)  # the plot, not over the docs' one
    fan = {
        "ours": [_fan_run(120_000, window=6), _fan_run(130_000, window=6)],
        "y-webrtc": [_fan_run(100_000)],
        "peerjs": [_fan_run(80_000)],
    }
    summary: list[list[str]] = []
    text = "\n".join(_fan_out_section(fan, summary))
    assert "2,000 events to every member of one room of 50, at most 6 events in flight" in text
    assert "| deliveries/s | 125,000 | 100,000 | 80,000 |" in text
    (row,) = summary
    assert row[:4] == ["fan-out to a room of 50: deliveries/s", "125,000", "100,000", "1.25"]
    assert (tmp_path / "fan-out.png").stat().st_size > 0
