"""Envelope ids (peer_client.message_ids): numbering, duplicates and order, per sender."""

from __future__ import annotations

from peer_client import protocol
from peer_client.message_ids import MessageIds, SeenIds, SenderOrder, SenderSeenIds, id_sequence


def test_ids_count_up_within_a_session() -> None:
    ids = MessageIds("abc")
    assert [ids.next(), ids.next()] == ["abc:1", "abc:2"]
    assert MessageIds().session != MessageIds().session


def test_duplicates_are_per_sender_so_nobody_can_use_up_anothers_ids() -> None:
    seen = SenderSeenIds(size=3)
    assert seen.first_time("mallory", "dana:5")  # Mallory sends Dana's next id first
    assert seen.first_time("dana", "dana:5"), "Dana's real message still counts"
    assert not seen.first_time("dana", "dana:5"), "the same sender twice is a duplicate"
    for n in range(10):
        seen.first_time("mallory", f"m:{n}")  # fills only Mallory's memory
    assert not seen.first_time("dana", "dana:5")
    seen.forget("dana")
    assert seen.first_time("dana", "dana:5"), "a sender that left is forgotten"


def test_seen_ids_drop_repeats_and_forget_the_oldest() -> None:
    seen = SeenIds(size=3)
    assert seen.first_time("a")
    assert not seen.first_time("a")
    for name in "bcd":
        assert seen.first_time(name)
    assert seen.first_time("a")  # forgotten after 3 newer ids
    assert not seen.first_time("d")


def test_ids_of_the_form_session_seq_have_a_sequence_number() -> None:
    assert id_sequence("abc:12") == ("abc", 12)
    assert id_sequence("a:b:3") == ("a:b", 3)
    for other in ("abc", ":3", "abc:", "abc:0", "abc:03", "abc:-1", "abc:1.5", "abc:" + "9" * 17):
        assert id_sequence(other) is None, other
    assert id_sequence(f"abc:{2**53}") is None, "beyond what JavaScript holds exactly"


def test_a_drag_message_older_than_one_applied_from_the_same_sender_is_stale() -> None:
    order = SenderOrder()
    assert not order.stale("ann", "a:5")
    assert not order.stale("ann", "a:7"), "gaps are normal: ids count every message sent"
    assert order.stale("ann", "a:6"), "overtaken by a:7"
    assert order.stale("ann", "a:7")
    assert not order.stale("bob", "a:6"), "per sender: Bob cannot make Ann's messages old"
    assert not order.stale("ann", "b:1"), "a new session starts over"
    assert not order.stale("ann", "no-sequence")
    order.forget("ann")
    assert not order.stale("ann", "b:1")
    assert {"snapshot", "drag-start", "drag-hover", "drag-drop", "drag-cancel"} == set(
        protocol.DRAG_STATE_TYPES
    )
