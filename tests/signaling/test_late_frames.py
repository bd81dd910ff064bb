"""Frames between instances that come too late, and the clock they are timed on, without sockets:
the core names whom to tell about a dropped frame; the clock offset is read from Redis's TIME, and a
skewed clock is logged at most every ten minutes.
(tests/signaling/test_cluster_clocks.py runs both through real instances and a real Redis.)"""

from __future__ import annotations

import json

import pytest

from signaling import actions as act
from signaling import protocol
from signaling.redis_clock import (
    MAX_ROUND_TRIP,
    SKEW_LOG_INTERVAL,
    SKEW_WARNING,
    ClockOffset,
    SkewLog,
    server_time,
)
from signaling.rooms import Member
from tests.signaling.core_driver import CoreDriver


def remote(peer: str, instance: str = "far", sprint: str = "1") -> Member:
    return Member(
        peer=peer, sprint=sprint, user_id=f"u-{peer}", name=peer, connection=1, instance=instance
    )


def test_a_late_frame_is_reported_to_the_instance_of_its_sender() -> None:
    d = CoreDriver()
    d.join("1", "u1")
    d.run(d.core.news.remote_joined(remote("r1", instance="far")))
    frame = protocol.signal_bytes("r1", {"candidate": None}).decode()
    assert list(d.core.news.arrived_late(frame)) == [act.ReportUndelivered("far", "r1")]
    relayed = protocol.relay_bytes("r1", {"x": 1}).decode()
    assert list(d.core.news.arrived_late(relayed)) == [act.ReportUndelivered("far", "r1")]


@pytest.mark.parametrize(
    "frame",
    [
        json.dumps({"type": "signal", "from": "gone", "data": {}}),  # sender no longer known
        json.dumps({"type": "signal", "from": "p1", "data": {}}),  # a local peer: not another's
        json.dumps({"type": "event", "event": {}}),  # no sender
        json.dumps({"type": "signal", "from": 7, "data": {}}),
        "not json",
        "[]",
    ],
    ids=["unknown", "local", "no-sender", "sender-not-a-string", "not-json", "not-an-object"],
)
def test_a_late_frame_with_no_sender_elsewhere_is_only_dropped(frame: str) -> None:
    d = CoreDriver()
    d.join("1", "u1")  # p1
    assert list(d.core.news.arrived_late(frame)) == []


def test_the_report_reaches_the_sender_as_unavailable() -> None:
    """On the sender's instance, the broker's notice is an ``undeliverable``: an ``error`` with
    code ``unavailable`` for the sender, the connection kept."""
    d = CoreDriver()
    alice, _ = d.join("1", "u1")
    d.take(alice)
    d.run(d.core.undeliverable("p1"))
    (error,) = d.take(alice)
    assert (error["type"], error["code"]) == ("error", "unavailable")
    assert d.closed_with(alice) is None


def test_the_clock_offset_is_redis_time_minus_ours_at_the_midpoint() -> None:
    clock = ClockOffset()
    assert clock.reading(sent=1000.0, received=1000.2, server=997.1)  # ours 3 s ahead
    assert clock.offset == pytest.approx(-3.0)
    assert clock.ahead == pytest.approx(3.0)
    assert clock.skewed


def test_a_slow_or_backwards_reading_is_not_used() -> None:
    clock = ClockOffset()
    assert clock.reading(sent=10.0, received=10.01, server=10.005)
    assert not clock.reading(sent=20.0, received=20.0 + MAX_ROUND_TRIP + 0.01, server=25.0)
    assert not clock.reading(sent=30.0, received=29.0, server=25.0)
    assert clock.offset == pytest.approx(0.0)
    assert not clock.skewed


def test_a_small_difference_is_not_skew() -> None:
    clock = ClockOffset()
    assert not clock.skewed  # nothing known yet
    clock.reading(sent=0.0, received=0.0, server=SKEW_WARNING / 2)
    assert clock.known
    assert not clock.skewed


def test_redis_time_is_seconds_and_microseconds() -> None:
    assert server_time((1_700_000_000, 250_000)) == 1_700_000_000.25


def test_skew_is_said_at_most_once_an_interval_and_its_end_once() -> None:
    clock, log = ClockOffset(), SkewLog()
    clock.reading(sent=0.0, received=0.0, server=-3.0)  # ours 3 s ahead
    assert log.after(clock, 100.0) == "skewed"
    assert log.after(clock, 101.0) is None
    assert log.after(clock, 100.0 + SKEW_LOG_INTERVAL) == "skewed"
    clock.reading(sent=0.0, received=0.0, server=0.0)
    assert log.after(clock, 100.0 + SKEW_LOG_INTERVAL + 1) == "resolved"
    assert log.after(clock, 100.0 + SKEW_LOG_INTERVAL + 2) is None
    clock.reading(sent=0.0, received=0.0, server=-3.0)  # skewed again: said at once
    assert log.after(clock, 100.0 + SKEW_LOG_INTERVAL + 3) == "skewed"


def test_a_clock_that_was_always_right_has_nothing_to_say() -> None:
    clock, log = ClockOffset(), SkewLog()
    assert log.after(clock, 0.0) is None
    clock.reading(sent=0.0, received=0.0, server=SKEW_WARNING / 2)
    assert log.after(clock, 1.0) is None
