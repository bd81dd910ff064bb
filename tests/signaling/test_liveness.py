"""When another instance is dead, without Redis: a missing presence key proves it only after a
renewal interval, and only once this instance has been connected for a full TTL.
(tests/signaling/test_cluster.py kills real instances and restarts a real Redis.)"""

from __future__ import annotations

from signaling.liveness import Liveness

TTL = 5.0  # renewed every 1.0 s


def connected_at(now: float) -> Liveness:
    liveness = Liveness(TTL)
    liveness.connected(now)
    return liveness


def test_an_instance_missing_for_a_renewal_interval_is_dead_once() -> None:
    liveness = connected_at(0.0)
    assert liveness.interval == 1.0
    assert not liveness.dead("b", 10.0)  # first seen missing
    assert not liveness.dead("b", 10.9)
    assert liveness.dead("b", 11.0)
    assert not liveness.dead("b", 11.5)  # forgotten once declared: the clock starts again


def test_an_instance_whose_key_is_back_starts_from_nothing() -> None:
    liveness = connected_at(0.0)
    assert not liveness.dead("b", 10.0)
    liveness.present("b")
    assert not liveness.dead("b", 10.5)
    assert not liveness.dead("b", 11.2)  # missing since 10.5, not 10.0
    assert liveness.dead("b", 11.5)


def test_nobody_is_dead_before_a_full_ttl_connected() -> None:
    """After a Redis restart every key is gone until its instance registers again."""
    liveness = connected_at(100.0)
    assert not liveness.settled(104.9)
    assert not liveness.dead("b", 101.0)
    assert not liveness.dead("b", 104.9)  # missing 3.9 s, but not settled
    assert liveness.settled(105.0)
    assert liveness.dead("b", 105.0)  # missing since 101.0


def test_a_new_connection_forgets_who_was_missing_and_settles_again() -> None:
    liveness = connected_at(0.0)
    assert not liveness.dead("b", 10.0)
    liveness.connected(20.0)
    assert not liveness.dead("b", 25.0)  # missing since 25.0 now
    assert liveness.dead("b", 26.0)


def test_settling_is_announced_once_per_connection() -> None:
    liveness = connected_at(0.0)
    assert not liveness.newly_settled(4.0)
    assert liveness.newly_settled(5.0)
    assert not liveness.newly_settled(6.0)
    liveness.connected(10.0)
    assert not liveness.newly_settled(12.0)
    assert liveness.newly_settled(15.0)
