"""The websocket opening handshake (RFC 6455 section 4.2): is this request an upgrade we accept?

Both transports ask :func:`check_upgrade` with the request's method, HTTP version and every header
line as received (repeated headers kept apart), so they accept and refuse exactly the same requests
with the same answers. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

WEBSOCKET_PATH: Final = "/ws"
WS_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
SUPPORTED_VERSION: Final = "13"

# Headers sent with every refusal that asks for a websocket upgrade (RFC 6455 4.2.2 and 4.4).
UPGRADE_REQUIRED_HEADERS: Final = (
    ("Upgrade", "websocket"),
    ("Sec-WebSocket-Version", SUPPORTED_VERSION),
)


class HandshakeRefused(Exception):
    """The request is not an upgrade we accept: answer ``status`` with ``reason`` as the body."""

    def __init__(self, status: int, reason: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = tuple(headers)


@dataclass(frozen=True, slots=True)
class Upgrade:
    """An accepted upgrade: the ``Sec-WebSocket-Accept`` value, the browser's ``Origin``, and the
    nearest address ``X-Forwarded-For`` names (trusted only from ``--trusted-proxy`` peers)."""

    accept: str
    origin: str | None
    forwarded_for: str | None = None

    def client_address(self, peer: str, trusted_proxies: tuple[str, ...]) -> str:
        """The client's address: ``peer``, or the one a trusted proxy says it forwards."""
        if self.forwarded_for and peer in trusted_proxies:
            return self.forwarded_for
        return peer


# A Host value: a name or address, an IP literal in brackets, an optional port (RFC 3986 3.2).
_HOST: Final = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+;=%-]+)(:\d{1,5})?$")


def tokens(values: Iterable[str]) -> list[str]:
    """The comma-separated tokens of every line of a header, lower-cased (RFC 9110 5.3)."""
    return [
        token.strip().lower() for value in values for token in value.split(",") if token.strip()
    ]


def check_upgrade(
    method: str, version: tuple[int, int], headers: Sequence[tuple[str, str]]
) -> Upgrade:
    """Check an upgrade request to ``/ws``; raise :class:`HandshakeRefused` naming the fault.

    ``headers`` are (name, value) pairs in any case, one per header line received.
    """
    lines: dict[str, list[str]] = {}
    for name, value in headers:
        if any((char < " " and char != "\t") or char == "\x7f" for char in value):
            raise HandshakeRefused(400, f"header {name[:40]!r} holds a control character")
        lines.setdefault(name.lower(), []).append(value.strip())
    if method != "GET":
        raise HandshakeRefused(405, "/ws takes only GET (a websocket upgrade)", (("Allow", "GET"),))
    if "websocket" not in tokens(lines.get("upgrade", ())):
        raise HandshakeRefused(
            426,
            "/ws is a websocket endpoint: open it with a websocket upgrade",
            (*UPGRADE_REQUIRED_HEADERS, ("Connection", "Upgrade")),
        )
    if version != (1, 1):
        raise HandshakeRefused(400, "a websocket upgrade is an HTTP/1.1 request")
    hosts = lines.get("host", [])
    if len(hosts) != 1 or not hosts[0]:
        raise HandshakeRefused(
            400, "Host header missing" if not hosts or not hosts[0] else "more than one Host header"
        )
    if _HOST.match(hosts[0]) is None:
        raise HandshakeRefused(400, "Host header is not a host name or address with a port")
    if "upgrade" not in tokens(lines.get("connection", ())):
        raise HandshakeRefused(400, "Connection header must include 'upgrade'")
    if lines.get("content-length", ["0"]) != ["0"] or "transfer-encoding" in lines:
        raise HandshakeRefused(400, "a websocket upgrade request has no body")
    versions = tokens(lines.get("sec-websocket-version", ()))
    if SUPPORTED_VERSION not in versions:
        asked = ", ".join(versions) if versions else "none"
        raise HandshakeRefused(
            426,
            f"only websocket version {SUPPORTED_VERSION} is supported (asked for: {asked})",
            UPGRADE_REQUIRED_HEADERS,
        )
    keys = lines.get("sec-websocket-key", [])
    if len(keys) != 1:
        raise HandshakeRefused(
            400, "Sec-WebSocket-Key missing" if not keys else "more than one Sec-WebSocket-Key"
        )
    try:
        if len(base64.b64decode(keys[0], validate=True)) != 16:
            raise ValueError
    except (ValueError, binascii.Error):
        raise HandshakeRefused(400, "Sec-WebSocket-Key must be 16 bytes in base64") from None
    origins = lines.get("origin", [])
    if len(origins) > 1:
        raise HandshakeRefused(400, "more than one Origin header")
    forwarded = tokens(lines.get("x-forwarded-for", ()))
    return Upgrade(
        accept=accept_key(keys[0]),
        origin=origins[0] if origins else None,
        forwarded_for=forwarded[-1] if forwarded else None,
    )


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 4.2.2)."""
    digest = hashlib.sha1(key.encode() + WS_GUID, usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def origin_refusal(origin: str | None) -> HandshakeRefused:
    return HandshakeRefused(403, f"origin {origin!r} is not allowed to open a websocket")
