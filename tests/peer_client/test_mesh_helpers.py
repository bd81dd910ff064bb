"""aiortc ICE helpers without sockets: ICE servers from welcome, browser candidates."""

from __future__ import annotations

from peer_client.ice import candidate_from_browser, ice_servers_from

BROWSER_CANDIDATE = (
    "candidate:3253387151 1 udp 2122260223 127.0.0.1 54321 typ host generation 0 "
    "ufrag abcd network-id 1"
)


def test_browser_candidates_become_aiortc_candidates() -> None:
    candidate = candidate_from_browser(
        {"candidate": BROWSER_CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0}
    )
    assert (candidate.ip, candidate.port, candidate.type, candidate.protocol) == (
        "127.0.0.1",
        54321,
        "host",
        "udp",
    )
    assert (candidate.sdpMid, candidate.sdpMLineIndex) == ("0", 0)


def test_empty_candidate_is_end_of_candidates() -> None:
    assert candidate_from_browser({"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}) is None


def test_ice_servers_come_from_welcome() -> None:
    servers = ice_servers_from(
        [
            {"urls": "stun:stun.example:3478"},
            {"urls": ["turn:t.example"], "username": "1:u", "credential": "c"},
            {"urls": []},
            "junk",
        ]
    )
    assert [(s.urls, s.username, s.credential) for s in servers] == [
        ("stun:stun.example:3478", None, None),
        (["turn:t.example"], "1:u", "c"),
    ]
    assert ice_servers_from(None) == []
