"""How often a peer's hint makes the session ask the board (peer_client.refresh; no sockets)."""

from __future__ import annotations

import pytest

from peer_client.refresh import BACKLOG, RefreshLimiter


def test_a_first_hint_fetches_at_once_and_hints_meanwhile_merge_into_one() -> None:
    limiter = RefreshLimiter(interval=2.0, max_tasks=20)
    assert limiter.hint(7, 0.0, "p") == 0.0
    assert limiter.hint(7, 0.001, "p") is None, "already queued: merged"
    limiter.begin(7, 0.005)
    assert limiter.hint(7, 0.010, "p") is None, "in flight: merged into one more"
    assert limiter.end(7, 0.1) == pytest.approx(1.905)
    assert limiter.hint(7, 0.2, "p") is None
    limiter.begin(7, 2.005)
    assert limiter.end(7, 2.1) is None, "no hint came meanwhile: done"
    assert limiter.hint(7, 2.2, "p") == pytest.approx(1.805), "the next hint waits for the interval"


def test_each_task_has_its_own_limit() -> None:
    limiter = RefreshLimiter()
    assert limiter.hint(1, 0.0, "p") == 0.0
    assert limiter.hint(2, 0.0, "p") == 0.0


def test_hints_for_too_many_tasks_at_once_are_dropped_until_some_are_done() -> None:
    limiter = RefreshLimiter(interval=2.0, max_tasks=3)
    for task in (1, 2, 3):
        assert limiter.hint(task, 0.0, "p") == 0.0
    assert limiter.hint(4, 0.0, "p") is None
    for task in (1, 2, 3):
        limiter.begin(task, 0.0)
        limiter.end(task, 0.01)
    assert limiter.hint(4, 1.0, "p") is None, "their intervals are not over yet"
    assert limiter.hint(4, 2.0, "p") == 0.0, "now the idle ones are forgotten"


def test_one_senders_hints_hold_at_most_its_share_and_others_keep_theirs() -> None:
    limiter = RefreshLimiter(interval=2.0, max_tasks=20, per_sender=5)
    mallory = [limiter.hint(task, 0.0, "mallory") for task in range(1, 21)]
    assert mallory == [0.0] * 5 + [None] * 15, "five of her twenty"
    assert limiter.hint(21, 0.0, "sam") == 0.0, "Sam's hint still gets a slot"
    assert limiter.hint(3, 0.001, "sam") is None, "merged into hers: one request for the task"
    # Kept busy (hinted again every time it is answered), her five never free up: still five.
    for step in range(34):
        now = step * 0.3
        for task in range(1, 6):
            limiter.begin(task, now)
            limiter.end(task, now + 0.01)
            limiter.hint(task, now + 0.02, "mallory")
        assert limiter.hint(100 + step, now + 0.02, "mallory") is None


def test_the_backlog_listing_has_a_slot_of_its_own() -> None:
    limiter = RefreshLimiter(interval=2.0, max_tasks=20, per_sender=5)
    task = 0
    for sender in ("m1", "m2", "m3", "m4"):
        for _ in range(5):
            task += 1
            assert limiter.hint(task, 0.0, sender) == 0.0
    assert limiter.hint(99, 0.0, "sam") is None, "twenty tasks wait: a twenty-first is dropped"
    assert limiter.hint(BACKLOG, 0.0, "sam") == 0.0, "a task new to us is still looked for"
