"""The data-channel protocol's check (peer_client.protocol): messages parsed, rejected and
encoded by section 2's rules (no sockets)."""

from __future__ import annotations

import json

import pytest

from peer_client import protocol
from peer_client.messages import (
    Bye,
    DragCancel,
    DragDrop,
    DragHover,
    DragInfo,
    DragStart,
    Hello,
    Message,
    Ping,
    Pong,
    Snapshot,
    TaskUpdated,
)
from peer_client.places import Place, Pointer
from peer_client.protocol import MessageRejected, Received, parse_message


def frame(**fields: object) -> str:
    return json.dumps({"id": "s:1", **fields})


@pytest.mark.parametrize(
    "message",
    [
        Hello("bot"),
        Snapshot((DragInfo(4, Place("backlog", 0), Place("done", 2)),)),
        DragStart(4, 3, Place("in_progress", 1)),
        DragHover(4, Place("testing", 0)),
        DragHover(4, Place("testing", 0), Pointer("done", 0.25, 1.0)),
        Snapshot((DragInfo(4, Place("backlog", 0), Place("done", 2), Pointer("done", 0, 0.5)),)),
        DragDrop(4, Place("done", 0), 3),
        DragCancel(4),
        TaskUpdated(
            {"id": 4, "version": 5, "name": "x", "sprint": None, "status": "done", "position": 0}
        ),
        Bye(),
        Ping(12.5),
        Pong(12.5),
    ],
)
def test_every_message_survives_encoding_and_parsing(message: Message) -> None:
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


def test_what_we_send_is_checked_like_what_we_receive() -> None:
    with pytest.raises(ValueError, match="task must be an integer"):
        protocol.encode(DragCancel(0), "s:1")
    with pytest.raises(ValueError, match="agent"):
        protocol.encode(Hello(""), "s:1")
