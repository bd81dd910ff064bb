"""Token bucket and log throttle arithmetic."""

from __future__ import annotations

import pytest

from signaling.ratelimit import LogThrottle, TokenBucket


def test_burst_then_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3)
    assert [bucket.allow(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.allow(0.4) is False  # 0.8 tokens refilled
    assert bucket.allow(0.5) is True  # 1.0 token
    assert bucket.allow(100.0) is True
    assert sum(bucket.allow(100.0) for _ in range(10)) == 2  # refill is capped at the burst


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(rate=0, burst=1)


def test_a_log_throttle_lets_one_line_through_per_interval_and_counts_the_rest() -> None:
    throttle = LogThrottle(10.0)
    assert throttle.allow(100.0) == 0
    assert [throttle.allow(100.0 + t) for t in (1, 2, 9.9)] == [None, None, None]
    assert throttle.allow(110.0) == 3  # the line after says how many it stands for
    assert throttle.allow(110.5) is None
    assert throttle.allow(125.0) == 1
