"""The upgrade rules both transports share (RFC 6455 4.2), without sockets."""

from __future__ import annotations

import pytest

from signaling.handshake import HandshakeRefused, accept_key, check_upgrade

GOOD = [
    ("Host", "x"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
]


def without(name: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in GOOD if k != name]


def replaced(name: str, *values: str) -> list[tuple[str, str]]:
    return without(name) + [(name, value) for value in values]


def test_the_accept_key_is_the_rfc_example() -> None:
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert check_upgrade("GET", (1, 1), GOOD).accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(
    "headers",
    [
        [(k.upper(), v) for k, v in GOOD],
        replaced("Connection", "keep-alive", "Upgrade"),
        replaced("Connection", "keep-alive, Upgrade"),
        replaced("Upgrade", "WebSocket"),
        replaced("Sec-WebSocket-Version", "13, 8"),
        replaced("Sec-WebSocket-Version", "8", "13"),
        [*GOOD, ("Origin", "http://ok")],
        [*GOOD, ("Content-Length", "0")],
    ],
    ids=[
        "upper-case",
        "two-lines",
        "comma-joined",
        "mixed-case",
        "versions",
        "version-lines",
        "origin",
        "no-body",
    ],
)
def test_well_formed_variants_are_accepted(headers: list[tuple[str, str]]) -> None:
    check_upgrade("GET", (1, 1), headers)


@pytest.mark.parametrize(
    ("method", "version", "headers", "status", "words"),
    [
        ("GET", (1, 1), without("Upgrade"), 426, "websocket endpoint"),
        ("GET", (1, 0), GOOD, 400, "HTTP/1.1"),
        ("GET", (1, 1), without("Host"), 400, "Host header missing"),
        ("GET", (1, 1), [*GOOD, ("Host", "y")], 400, "more than one Host"),
        ("GET", (1, 1), without("Connection"), 400, "'upgrade'"),
        ("GET", (1, 1), without("Sec-WebSocket-Version"), 426, "asked for: none"),
        ("GET", (1, 1), replaced("Sec-WebSocket-Version", "8"), 426, "version 13"),
        ("GET", (1, 1), without("Sec-WebSocket-Key"), 400, "Key missing"),
        ("GET", (1, 1), replaced("Sec-WebSocket-Key", "c2hvcnQ="), 400, "16 bytes"),
        ("GET", (1, 1), replaced("Sec-WebSocket-Key", "a", "b"), 400, "more than one"),
        ("GET", (1, 1), [*GOOD, ("Content-Length", "5")], 400, "no body"),
        ("POST", (1, 1), GOOD, 405, "only GET"),
    ],
)
def test_faults_are_refused_with_the_right_status_naming_them(
    method: str, version: tuple[int, int], headers: list[tuple[str, str]], status: int, words: str
) -> None:
    with pytest.raises(HandshakeRefused) as refused:
        check_upgrade(method, version, headers)
    assert refused.value.status == status
    assert words in refused.value.reason
    if status == 426:
        assert ("Sec-WebSocket-Version", "13") in refused.value.headers
