"""The handshake and frame pieces the server writes itself (RFC 6455), tested without sockets."""

from __future__ import annotations

import pytest

from signaling import wire

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's example key


def head(**headers: str) -> wire.RequestHead:
    base = {
        "upgrade": "websocket",
        "connection": "keep-alive, Upgrade",
        "sec-websocket-version": "13",
        "sec-websocket-key": KEY,
    }
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return wire.RequestHead("GET", "/ws", {k: v for k, v in base.items() if v})


def test_accept_key_is_the_rfc_example() -> None:
    assert wire.websocket_accept(head()) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    response = wire.handshake_response("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in response
    assert b"Sec-WebSocket-Extensions" not in response  # no permessage-deflate
    assert response.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({"connection": "keep-alive"}, 400, "Connection"),
        ({"sec_websocket_version": "8"}, 426, "version 13"),
        ({"sec_websocket_version": ""}, 426, "version 13"),
        ({"sec_websocket_key": ""}, 400, "Sec-WebSocket-Key"),
        ({"sec_websocket_key": "c2hvcnQ="}, 400, "16 bytes"),
        ({"sec_websocket_key": "not base64!!"}, 400, "base64"),
    ],
)
def test_bad_upgrades_are_refused_with_a_reason(
    headers: dict[str, str], status: int, words: str
) -> None:
    with pytest.raises(wire.HandshakeError) as caught:
        wire.websocket_accept(head(**headers))
    assert caught.value.status == status
    assert words in caught.value.reason


def test_request_head_parsing() -> None:
    raw = b"GET /ws?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n"
    end = wire.head_end(raw)
    assert end == len(raw)
    parsed = wire.parse_request_head(raw[:end])
    assert (parsed.method, parsed.path, parsed.target) == ("GET", "/ws", "/ws?x=1")
    assert parsed.headers["upgrade"] == "WebSocket"
    assert parsed.headers["x-dup"] == "2"
    assert wire.is_websocket_upgrade(parsed)
    assert wire.head_end(raw[:-2]) == -1


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /ws\r\n\r\n",
        b"GET /ws HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /ws HTTP/1.1\r\n : x\r\n\r\n",
    ],
)
def test_malformed_heads_raise(raw: bytes) -> None:
    with pytest.raises(wire.HandshakeError):
        wire.parse_request_head(raw)


def test_only_get_ws_with_upgrade_is_a_websocket() -> None:
    assert not wire.is_websocket_upgrade(wire.RequestHead("POST", "/ws", {"upgrade": "websocket"}))
    assert not wire.is_websocket_upgrade(wire.RequestHead("GET", "/wsx", {"upgrade": "websocket"}))
    assert not wire.is_websocket_upgrade(wire.RequestHead("GET", "/ws", {}))
    assert wire.could_be_websocket(b"GE")
    assert wire.could_be_websocket(b"GET /ws HTTP/1.1")
    assert not wire.could_be_websocket(b"POST /hooks/board")
    assert not wire.could_be_websocket(b"GET /healthz")


@pytest.mark.parametrize("size", [0, 125, 126, 1023, 1024, 65535, 65536, 70000])
@pytest.mark.parametrize("build", ["frame", "text_frame_bytes"])
def test_frame_lengths(size: int, build: str) -> None:
    """Both builders, the one with the table of short text headers included, on each side of
    every length boundary (the table's end, 1024, among them)."""
    payload = b"x" * size
    data = wire.frame(wire.OP_TEXT, payload) if build == "frame" else wire.text_frame_bytes(payload)
    assert data[0] == 0x81  # FIN + text
    assert data[1] & 0x80 == 0  # servers never mask
    length = data[1] & 0x7F
    if size < 126:
        assert length == size
        assert data[2:] == payload
    elif size < 65536:
        assert length == 126
        assert int.from_bytes(data[2:4], "big") == size
        assert data[4:] == payload
    else:
        assert length == 127
        assert int.from_bytes(data[2:10], "big") == size
        assert data[10:] == payload


def test_close_frame_keeps_reasons_short_and_valid_utf8() -> None:
    data = wire.close_frame(4401, "é" * 100)  # 200 bytes of UTF-8: cut, never mid-character
    assert data[0] == 0x88
    assert data[1] <= 125
    assert int.from_bytes(data[2:4], "big") == 4401
    data[4:].decode("utf-8")  # raises if a character was split


def test_error_response_is_complete() -> None:
    response = wire.http_error_response(426, "only websocket version 13 is supported")
    head_bytes, body = response.split(b"\r\n\r\n", 1)
    assert head_bytes.startswith(b"HTTP/1.1 426 Upgrade Required")
    assert b"Sec-WebSocket-Version: 13" in head_bytes
    assert b"Connection: close" in head_bytes
    assert body == b"only websocket version 13 is supported"
    assert f"Content-Length: {len(body)}".encode() in head_bytes


def _masked(payload: bytes) -> bytes:
    """A client's text frame: masked, with a 7- or 16-bit length."""
    size = len(payload)
    length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return bytes([0x81]) + length + b"\x01\x02\x03\x04" + payload


@pytest.mark.parametrize("size", [0, 125, 126, 200, 65535])
def test_one_whole_frame_is_one_frame_and_two_are_more(size: int) -> None:
    frame = _masked(b"x" * size)
    assert not wire.holds_more_than_one_frame(frame)
    assert wire.holds_more_than_one_frame(frame + _masked(b"y"))
    assert wire.holds_more_than_one_frame(frame + frame[:1])  # the next frame's first byte


@pytest.mark.parametrize("cut", [1, 3, 7, 100])
def test_part_of_a_frame_is_not_more_than_one(cut: int) -> None:
    assert not wire.holds_more_than_one_frame(_masked(b"x" * 200)[:cut])


def test_an_unmasked_frame_is_measured_with_its_shorter_header() -> None:
    unmasked = bytes([0x81, 5]) + b"hello"
    assert not wire.holds_more_than_one_frame(unmasked)
    assert wire.holds_more_than_one_frame(unmasked + unmasked)


def test_a_frame_with_a_64_bit_length_counts_as_more() -> None:
    assert wire.holds_more_than_one_frame(bytes([0x81, 0x80 | 127]) + bytes(8))
