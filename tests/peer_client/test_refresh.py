"""How often a peer's hint makes the session ask the board (peer_client.refresh; no sockets)."""

from __future__ import annotations

import pytest

from peer_client.refresh import RefreshLimiter


def test_a_first_hint_fetches_at_once_and_hints_meanwhile_merge_into_one() -> None:
    limiter = RefreshLimiter(interval=2.0, max_tasks=20)
    assert limiter.hint(7, 0.0) == 0.0
    assert limiter.hint(7, 0.001) is None, "already queued: merged"
    limiter.begin(7, 0.005)
    assert limiter.hint(7, 0.010) is None, "in flight: merged into one more"
    assert limiter.end(7, 0.1) == pytest.approx(1.905)
    assert limiter.hint(7, 0.2) is None
    limiter.begin(7, 2.005)
    assert limiter.end(7, 2.1) is None, "no hint came meanwhile: done"
    assert limiter.hint(7, 2.2) == pytest.approx(1.805), "the next hint waits for the interval"


def test_each_task_has_its_own_limit() -> None:
    limiter = RefreshLimiter()
    assert limiter.hint(1, 0.0) == 0.0
    assert limiter.hint(2, 0.0) == 0.0


def test_hints_for_too_many_tasks_at_once_are_dropped_until_some_are_done() -> None:
    limiter = RefreshLimiter(interval=2.0, max_tasks=3)
    for task in (1, 2, 3):
        assert limiter.hint(task, 0.0) == 0.0
    assert limiter.hint(4, 0.0) is None
    for task in (1, 2, 3):
        limiter.begin(task, 0.0)
        limiter.end(task, 0.01)
    assert limiter.hint(4, 1.0) is None, "their intervals are not over yet"
    assert limiter.hint(4, 2.0) == 0.0, "now the idle ones are forgotten"
