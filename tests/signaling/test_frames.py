"""The fast path's frame parser and writers, without sockets (RFC 6455 section 5)."""

from __future__ import annotations

import os
import struct

import pytest

from signaling.fastpath import frames
from signaling.fastpath.frames import FrameParser


class Recorder:
    """The parser's handler: every call, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def on_text(self, text: str) -> None:
        self.calls.append(("text", text))

    def on_binary(self, data: bytes) -> None:
        self.calls.append(("binary", data))

    def on_ping(self, payload: bytes) -> None:
        self.calls.append(("ping", payload))

    def on_pong(self, payload: bytes) -> None:
        self.calls.append(("pong", payload))

    def on_close(self, code: int | None, reason: str) -> None:
        self.calls.append(("close", (code, reason)))

    def on_failure(self, code: int, reason: str) -> None:
        self.calls.append(("failure", (code, reason)))


def client_frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, masked: bool = True
) -> bytes:
    size = len(payload)
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    mask_bit = 0x80 if masked else 0
    if size < 126:
        header = bytes((first, mask_bit | size))
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, size)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def parse(*chunks: bytes, max_message: int = 1 << 20) -> list[tuple[str, object]]:
    recorder = Recorder()
    parser = FrameParser(max_message, recorder)
    for chunk in chunks:
        parser.feed(chunk)
    return recorder.calls


def test_the_aiohttp_mask_function_the_fast_path_relies_on_is_there() -> None:
    """The one aiohttp internal the fast path uses; an aiohttp upgrade that moves it fails here."""
    assert frames.NATIVE_MASK


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 1000])
def test_unmasking_xors_the_payload_with_the_key_repeated(size: int) -> None:
    payload, mask = os.urandom(size), os.urandom(4)
    assert frames.unmask(payload, mask) == bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 100_000])
def test_every_length_encoding_is_read(size: int) -> None:
    text = "x" * size
    assert parse(client_frame(frames.OP_TEXT, text.encode())) == [("text", text)]


def test_frames_split_anywhere_and_several_in_one_read_come_out_whole_and_in_order() -> None:
    data = b"".join(client_frame(frames.OP_TEXT, f"m{n}".encode() * 50) for n in range(5))
    expected = [("text", f"m{n}" * 50) for n in range(5)]
    assert parse(data) == expected
    assert parse(*(data[i : i + 1] for i in range(len(data)))) == expected
    assert parse(data[:7], data[7:300], data[300:]) == expected


def test_fragments_with_pings_between_them_make_one_message() -> None:
    calls = parse(
        client_frame(frames.OP_TEXT, b"hel", fin=False),
        client_frame(frames.OP_PING, b"p1"),
        client_frame(frames.OP_CONTINUATION, b"lo ", fin=False),
        client_frame(frames.OP_PONG, b""),
        client_frame(frames.OP_CONTINUATION, b"world"),
    )
    assert calls == [("ping", b"p1"), ("pong", b""), ("text", "hello world")]


def test_utf8_split_inside_a_character_is_fine_and_bad_utf8_fails_at_once() -> None:
    euro = "€".encode()
    good = parse(
        client_frame(frames.OP_TEXT, b"a" + euro[:1], fin=False),
        client_frame(frames.OP_CONTINUATION, euro[1:]),
    )
    assert good == [("text", "a€")]
    early = parse(
        client_frame(frames.OP_TEXT, b"\xc0\xaf", fin=False),  # overlong: fails before the rest
    )
    assert early == [("failure", (1007, "text message is not valid UTF-8"))]
    surrogate = parse(client_frame(frames.OP_TEXT, b'{"type":"\xed\xa0', fin=False))
    assert surrogate == [("failure", (1007, "text message is not valid UTF-8"))]


@pytest.mark.parametrize(
    "payload", [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"ok\xe2\x82"]
)
def test_invalid_utf8_fails_with_1007(payload: bytes) -> None:
    assert parse(client_frame(frames.OP_TEXT, payload)) == [
        ("failure", (1007, "text message is not valid UTF-8"))
    ]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (client_frame(frames.OP_TEXT, b"x", masked=False), "client frames must be masked"),
        (client_frame(frames.OP_TEXT, b"x", rsv=4), "reserved bits set"),
        (client_frame(0x3, b""), "reserved opcode 0x3"),
        (client_frame(0xB, b""), "reserved opcode 0xb"),
        (client_frame(frames.OP_PING, b"", fin=False), "control frames must not be fragmented"),
        (client_frame(frames.OP_PING, b"x" * 126), "control frame payload over 125 bytes"),
        (client_frame(frames.OP_CONTINUATION, b"x"), "continuation frame outside"),
        (client_frame(frames.OP_CLOSE, b"\x03"), "close frame payload of 1 byte"),
    ],
)
def test_protocol_violations_fail_with_1002_naming_them(frame: bytes, reason: str) -> None:
    calls = parse(frame, client_frame(frames.OP_TEXT, b"after"))
    assert len(calls) == 1
    kind, (code, text) = calls[0]  # type: ignore[misc]
    assert (kind, code) == ("failure", 1002)
    assert reason in text


def test_a_new_message_inside_a_fragmented_one_fails() -> None:
    calls = parse(client_frame(frames.OP_TEXT, b"a", fin=False), client_frame(frames.OP_TEXT, b"b"))
    assert calls == [("failure", (1002, "new message before the fragmented one was finished"))]


def test_the_size_limit_takes_exactly_the_maximum_and_refuses_one_more_from_the_header() -> None:
    assert parse(client_frame(frames.OP_TEXT, b"y" * 100), max_message=100) == [("text", "y" * 100)]
    header_only = struct.pack("!BB", 0x81, 0x80 | 101)  # announces 101 bytes, sends none
    assert parse(header_only, max_message=100) == [
        ("failure", (1009, "message larger than 100 bytes"))
    ]
    fragmented = parse(
        client_frame(frames.OP_TEXT, b"z" * 60, fin=False),
        client_frame(frames.OP_CONTINUATION, b"z" * 41),
        max_message=100,
    )
    assert fragmented == [("failure", (1009, "message larger than 100 bytes"))]


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1007, 1011, 1012, 1013, 1014, 3000, 4999])
def test_valid_close_codes_are_reported(code: int) -> None:
    assert parse(client_frame(frames.OP_CLOSE, struct.pack("!H", code) + b"bye")) == [
        ("close", (code, "bye"))
    ]


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])
def test_invalid_close_codes_fail_with_1002(code: int) -> None:
    assert parse(client_frame(frames.OP_CLOSE, struct.pack("!H", code))) == [
        ("failure", (1002, f"invalid close code {code}"))
    ]


def test_a_close_without_a_code_and_nothing_after_a_close_is_read() -> None:
    assert parse(client_frame(frames.OP_CLOSE, b""), client_frame(frames.OP_TEXT, b"late")) == [
        ("close", (None, ""))
    ]
    assert parse(client_frame(frames.OP_CLOSE, b"\x03\xe8\xff")) == [
        ("failure", (1007, "close reason is not valid UTF-8"))
    ]


def test_server_frames_are_final_unmasked_and_close_reasons_fit() -> None:
    assert frames.text_frame(b"hi") == b"\x81\x02hi"
    assert frames.text_frame(b"x" * 2000)[:4] == b"\x81\x7e\x07\xd0"
    close = frames.close_frame(4401, "é" * 100)
    assert close[0] == 0x88
    assert close[1] <= 125
    close[4:].decode()  # cut on a character boundary
    assert frames.close_frame(None) == b"\x88\x00"


@pytest.mark.parametrize("size", [0, 10, 125, 126, 1000])
def test_holds_more_than_one_frame_tells_one_frame_from_two(size: int) -> None:
    one = client_frame(frames.OP_TEXT, b"a" * size)
    assert not frames.holds_more_than_one_frame(one)
    assert frames.holds_more_than_one_frame(one + one)
    assert not frames.holds_more_than_one_frame(one[: len(one) // 2])
