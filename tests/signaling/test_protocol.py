"""Message parsing and building, without sockets."""

from __future__ import annotations

import json

import pytest

from signaling import protocol
from signaling.errors import ProtocolError


def test_parses_each_client_message() -> None:
    assert protocol.parse_client_message('{"type":"join","ticket":"t"}') == protocol.Join("t")
    assert protocol.parse_client_message(
        '{"type":"join","ticket":"t","resume":"p.m"}'
    ) == protocol.Join("t", "p.m")
    assert protocol.parse_client_message(
        '{"type":"signal","to":"p","data":{"a":1}}'
    ) == protocol.Signal("p", {"a": 1})
    assert protocol.parse_client_message('{"type":"relay","to":"p","data":{}}') == protocol.Relay(
        "p", {}
    )
    assert protocol.parse_client_message('{"type":"ping"}') == protocol.Ping()


def test_a_join_keeps_its_ticket_as_sent_for_the_ticket_check_to_judge() -> None:
    assert protocol.parse_client_message('{"type":"join"}') == protocol.Join(None)
    assert protocol.parse_client_message('{"type":"join","ticket":7}') == protocol.Join(7)


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("", "bad-json", "not valid JSON"),
        ("[" * 100_000, "bad-json", "not valid JSON"),
        ("null", "bad-message", "got null"),
        ("3", "bad-message", "got a number"),
        ('{"type":null}', "bad-message", '"type"'),
        ('{"type":"hello"}', "unknown-type", "'hello'"),
        ('{"type":"join","ticket":"t","resume":7}', "bad-message", "got a number"),
        ('{"type":"signal","to":"","data":{}}', "bad-message", '"to" must be a non-empty string'),
        ('{"type":"signal","to":"' + "p" * 65 + '","data":{}}', "bad-message", "longer than 64"),
        ('{"type":"relay","to":"p","data":[]}', "bad-message", "got an array"),
    ],
)
def test_bad_messages_name_the_fault(text: str, code: str, words: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        protocol.parse_client_message(text)
    assert raised.value.code == code
    assert words in raised.value.message


def test_server_messages_match_the_contract() -> None:
    welcome = protocol.welcome(
        peer="p1",
        sprint="7",
        peers=[{"peer": "p0", "user": {"id": "1", "name": "A"}}],
        ice_servers=[],
        resume="p1.x",
    )
    assert json.loads(protocol.encode(welcome)) == {
        "type": "welcome",
        "peer": "p1",
        "sprint": "7",
        "peers": [{"peer": "p0", "user": {"id": "1", "name": "A"}}],
        "iceServers": [],
        "resume": "p1.x",
    }
    assert protocol.peer_left("p") == {"type": "peer-left", "peer": "p"}
    assert json.loads(protocol.signal_bytes("a", {"x": 1})) == {
        "type": "signal",
        "from": "a",
        "data": {"x": 1},
    }
    assert protocol.error("bad-json", "m") == {"type": "error", "code": "bad-json", "message": "m"}
    assert json.loads(protocol.PONG) == {"type": "pong"}


def test_describe_signal_classifies_negotiation_without_the_sdp() -> None:
    sdp = (
        "v=0\r\na=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n"
        "a=candidate:2 1 udp 1 1.2.3.4 9 typ srflx\r\n"
    )
    offer = protocol.describe_signal({"description": {"type": "offer", "sdp": sdp}})
    assert offer == protocol.SignalSummary("offer", ("host", "srflx"))
    candidate = protocol.describe_signal(
        {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ relay", "sdpMid": "0"}}
    )
    assert candidate == protocol.SignalSummary("candidate", ("relay",))
    assert protocol.describe_signal({"candidate": None}).kind == "end-of-candidates"
    assert protocol.describe_signal({"candidate": {"candidate": ""}}).kind == "end-of-candidates"
    assert protocol.describe_signal({"whatever": 1}).kind == "other"


def test_describe_signal_names_any_candidate_type_and_copes_without_one() -> None:
    def summary(line: object) -> protocol.SignalSummary:
        return protocol.describe_signal({"candidate": {"candidate": line}})

    assert summary("candidate:1 1 udp 1 10.0.0.1 9 typ host") == ("candidate", ("host",))
    assert summary("candidate:1 1 udp 1 10.0.0.1 9 typ future x") == ("candidate", ("future",))
    assert summary("candidate:1 1 udp 1 10.0.0.1 9") == ("candidate", ())
    assert summary("candidate:1 1 udp 1 10.0.0.1 9 typ ") == ("candidate", ())
    assert summary(42) == ("candidate", ())
    assert protocol.describe_signal({"candidate": "a=candidate:1 typ srflx"}).candidate_types == (
        "srflx",
    )
    offer_with_candidate = {"description": {"type": "answer", "sdp": ""}, "candidate": None}
    assert protocol.describe_signal(offer_with_candidate).kind == "answer"
