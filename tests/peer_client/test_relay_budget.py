"""Our own relay budget, hovers first to go (peer_client.relay_budget; no sockets)."""

from __future__ import annotations

from peer_client.relay_budget import HOVER_RESERVE, RELAY_BURST, TokenBucket, reserve_for


def test_hovers_stop_first_and_the_rest_still_goes() -> None:
    bucket = TokenBucket(rate=15.0, burst=40.0)
    sent_hovers = 0
    while bucket.take(0.0, reserve_for("drag-hover")):
        sent_hovers += 1
    assert sent_hovers == RELAY_BURST - HOVER_RESERVE
    others = 0
    while bucket.take(0.0, reserve_for("drag-drop")):
        others += 1
    assert others == HOVER_RESERVE, "drops, cancels and updates use the reserve"
    assert not bucket.take(0.0)


def test_the_budget_refills_at_its_rate_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=15.0, burst=40.0)
    while bucket.take(0.0):
        pass
    assert bucket.take(1 / 15 + 1e-9)
    assert not bucket.take(1 / 15 + 1e-9)
    refilled = 0
    while bucket.take(100.0):
        refilled += 1
    assert refilled == 40


def test_hovers_that_only_move_the_pointer_keep_the_largest_reserve() -> None:
    assert reserve_for("drag-drop") == 0.0
    assert reserve_for("drag-hover") == 20.0
    assert reserve_for("drag-hover", position_only=True) == 30.0
    assert reserve_for("drag-cancel", position_only=True) == 0.0
