"""The data-channel protocol module: places, validation, ids, colours (no sockets)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from peer_client import protocol
from peer_client.protocol import (
    DragDrop,
    DragInfo,
    DragStart,
    Hello,
    MessageIds,
    MessageRejected,
    Place,
    Received,
    SeenIds,
    Snapshot,
    TaskUpdated,
    parse_message,
)


def frame(**fields: object) -> str:
    return json.dumps({"id": "s:1", **fields})


@pytest.mark.parametrize(
    "message",
    [
        Hello("bot"),
        Snapshot((DragInfo(4, Place("backlog", 0), Place("done", 2)),)),
        DragStart(4, 3, Place("in_progress", 1)),
        protocol.DragHover(4, Place("testing", 0)),
        protocol.DragHover(4, Place("testing", 0), protocol.Pointer("done", 0.25, 1.0)),
        Snapshot(
            (DragInfo(4, Place("backlog", 0), Place("done", 2), protocol.Pointer("done", 0, 0.5)),)
        ),
        DragDrop(4, Place("done", 0), 3),
        protocol.DragCancel(4),
        TaskUpdated(
            {"id": 4, "version": 5, "name": "x", "sprint": None, "status": "done", "position": 0}
        ),
        protocol.Bye(),
        protocol.Ping(12.5),
        protocol.Pong(12.5),
    ],
)
def test_every_message_survives_encoding_and_parsing(message: protocol.Message) -> None:
    encoded = protocol.encode(message, "abc:7")
    assert encoded["type"] == message.type
    assert parse_message(json.dumps(encoded)) == Received("abc:7", message)
    relayed = '{"type":"relay","from":"p","data":' + json.dumps(encoded) + "}"
    assert protocol.parse_relayed(relayed) == Received("abc:7", message)


def test_wire_shape_matches_the_protocol_document() -> None:
    assert protocol.encode(DragStart(4, 3, Place("in_progress", 1)), "s:1") == {
        "type": "drag-start",
        "id": "s:1",
        "task": 4,
        "version": 3,
        "from": {"column": "in_progress", "index": 1},
    }
    assert protocol.encode(
        Snapshot((DragInfo(4, Place("backlog", 0), Place("done", 2)),)), "s:2"
    ) == {
        "type": "snapshot",
        "id": "s:2",
        "drags": [
            {
                "task": 4,
                "from": {"column": "backlog", "index": 0},
                "over": {"column": "done", "index": 2},
            }
        ],
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"id": "s:1"}), '"type"'),
        (json.dumps({"type": "bye"}), "id must be a string"),
        (frame(type="drag-cancel", task="4"), "task must be an integer"),
        (frame(type="drag-cancel", task=True), "task must be an integer"),
        (frame(type="drag-hover", task=4, over={"column": "doing", "index": 0}), "column"),
        (frame(type="drag-hover", task=4, over={"column": "done", "index": -1}), "from 0"),
        (frame(type="drag-hover", task=4, over=[]), "place"),
        (
            frame(type="drag-start", task=4, version=0, **{"from": {"column": "done", "index": 0}}),
            "version",
        ),
        (frame(type="snapshot", drags={}), "list"),
        (frame(type="task-updated", task={"id": 1}), "task.version"),
        (frame(type="hello", agent=3), "agent"),
        (frame(type="ping", t="now"), "finite number"),
        (frame(type="hello", agent="x" * 20_000), "larger than"),
        (b"\x00", "binary"),
    ],
)
def test_malformed_messages_are_rejected_with_a_reason(raw: str | bytes, reason: str) -> None:
    result = parse_message(raw)
    assert isinstance(result, MessageRejected)
    assert reason in result.reason


def test_unknown_types_are_ignored() -> None:
    assert parse_message(frame(type="cursor", x=1)) is None


def test_places_map_to_the_move_api() -> None:
    assert protocol.move_request(Place("backlog", 2), 7) == {
        "sprint": None,
        "status": "not_started",
        "position": 2,
    }
    assert protocol.move_request(Place("testing", 0), 7) == {
        "sprint": 7,
        "status": "testing",
        "position": 0,
    }
    assert protocol.place_of_task({"sprint": None, "status": "not_started", "position": 1}, 7) == (
        Place("backlog", 1)
    )
    assert protocol.place_of_task({"sprint": 7, "status": "done", "position": 0}, 7) == Place(
        "done", 0
    )
    assert protocol.place_of_task({"sprint": 8, "status": "done", "position": 0}, 7) is None


@pytest.mark.parametrize(
    ("text", "column"),
    [("In progress", "in_progress"), ("not-started", "not_started"), ("DONE", "done"), ("x", None)],
)
def test_column_names_people_type(text: str, column: str | None) -> None:
    assert protocol.column_named(text) == column


def test_ids_count_up_within_a_session() -> None:
    ids = MessageIds("abc")
    assert [ids.next(), ids.next()] == ["abc:1", "abc:2"]
    assert MessageIds().session != MessageIds().session


def test_duplicates_are_per_sender_so_nobody_can_use_up_anothers_ids() -> None:
    seen = protocol.SenderSeenIds(size=3)
    assert seen.first_time("mallory", "dana:5")  # Mallory sends Dana's next id first
    assert seen.first_time("dana", "dana:5"), "Dana's real message still counts"
    assert not seen.first_time("dana", "dana:5"), "the same sender twice is a duplicate"
    for n in range(10):
        seen.first_time("mallory", f"m:{n}")  # fills only Mallory's memory
    assert not seen.first_time("dana", "dana:5")
    seen.forget("dana")
    assert seen.first_time("dana", "dana:5"), "a sender that left is forgotten"


def test_what_we_send_is_checked_like_what_we_receive() -> None:
    with pytest.raises(ValueError, match="task must be an integer"):
        protocol.encode(protocol.DragCancel(0), "s:1")
    with pytest.raises(ValueError, match="agent"):
        protocol.encode(Hello(""), "s:1")


def test_seen_ids_drop_repeats_and_forget_the_oldest() -> None:
    seen = SeenIds(size=3)
    assert seen.first_time("a")
    assert not seen.first_time("a")
    for name in "bcd":
        assert seen.first_time(name)
    assert seen.first_time("a")  # forgotten after 3 newer ids
    assert not seen.first_time("d")


def test_colours_and_initials_follow_section_2_5() -> None:
    assert protocol.fnv1a_32(b"") == 0x811C9DC5
    assert protocol.fnv1a_32(b"a") == 0xE40C292C
    assert protocol.colour_for("1") == f"hsl({protocol.fnv1a_32(b'1') % 360}, 65%, 45%)"
    assert protocol.initials("Dana Demo Smith") == "DD"
    assert protocol.initials("sam") == "S"
    assert protocol.initials("") == "?"


PEOPLE = Path(__file__).resolve().parents[1] / "protocol_fixtures" / "people" / "people.json"


def test_initials_and_colours_agree_with_the_shared_cases() -> None:
    """The same cases as tests/web/presence.test.mjs: both clients show a person alike."""
    people = json.loads(PEOPLE.read_text(encoding="utf-8"))
    for name, expected in people["initials"]:
        assert protocol.initials(name) == expected, name
    for user_id, colour in people["colours"]:
        assert protocol.colour_for(user_id) == colour, user_id


def test_ids_of_the_form_session_seq_have_a_sequence_number() -> None:
    assert protocol.id_sequence("abc:12") == ("abc", 12)
    assert protocol.id_sequence("a:b:3") == ("a:b", 3)
    for other in ("abc", ":3", "abc:", "abc:0", "abc:03", "abc:-1", "abc:1.5", "abc:" + "9" * 17):
        assert protocol.id_sequence(other) is None, other
    assert protocol.id_sequence(f"abc:{2**53}") is None, "beyond what JavaScript holds exactly"


def test_a_drag_message_older_than_one_applied_from_the_same_sender_is_stale() -> None:
    order = protocol.SenderOrder()
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
