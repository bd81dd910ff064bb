"""Reconnect backoff: capped, exponential, jittered (no sockets)."""

from __future__ import annotations

from peer_client.signaling import backoff_delay


def test_backoff_doubles_up_to_the_cap() -> None:
    lows = [backoff_delay(n, base=0.25, cap=10.0, rand=lambda: 0.0) for n in range(10)]
    highs = [backoff_delay(n, base=0.25, cap=10.0, rand=lambda: 1.0) for n in range(10)]
    assert lows[:4] == [0.125, 0.25, 0.5, 1.0]
    assert highs[:4] == [0.25, 0.5, 1.0, 2.0]
    assert max(highs) == 10.0
    assert highs[-1] == 10.0
    assert lows[-1] == 5.0  # jitter never goes below half the ceiling


def test_huge_attempt_numbers_stay_capped() -> None:
    assert backoff_delay(10_000, base=1.0, cap=30.0, rand=lambda: 0.5) == 22.5
