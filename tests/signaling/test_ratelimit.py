"""Token bucket arithmetic."""

from __future__ import annotations

import pytest

from signaling.ratelimit import TokenBucket


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
