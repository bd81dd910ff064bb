"""The one small interface every websocket transport offers the service.

A transport accepts websockets (``signaling.fastpath`` or ``signaling.aiohttp_transport``), parses
their frames and reports them to :class:`~signaling.service.SignalingService`; the service in turn
drives each socket through this interface. No call here ever waits: a client that cannot keep up
is dropped by its transport (which reports it with ``service.overflowed``), never waited for.
"""

from __future__ import annotations

from typing import Final, Protocol

# Codes an endpoint may send in a close frame (RFC 6455 7.4 and the IANA registry): 1005, 1006
# and 1015 only ever describe a closure locally, 1004 is reserved, 1016-2999 are unassigned,
# 5000 and up are outside the defined ranges.
VALID_CLOSE_CODES: Final = frozenset(
    {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
)


def close_code_is_valid(code: int) -> bool:
    """Whether a client may send ``code`` in a close frame (else: fail with 1002)."""
    return code in VALID_CLOSE_CODES or 3000 <= code <= 4999


class Connection(Protocol):
    """One accepted websocket."""

    def send(self, payload: bytes) -> None:
        """Queue one text frame whose payload is ``payload`` (UTF-8)."""

    def ping(self) -> None:
        """Send a websocket ping (its pong reaches the service as ``pong``)."""

    def close(self, code: int, reason: str) -> None:
        """Send a close frame, then close the TCP connection. Safe to call twice.

        The fast transport closes TCP when the client answers with its close, or after
        ``Settings.close_timeout``. The aiohttp transport does the same for a close decided
        while handling that client's own frame (4401, 4429, 4400...), but closes TCP as soon as
        the close frame is written for one decided while it waits for the client's next frame
        (4408, 4000, 1001): aiohttp's public API ends that wait by closing (docs/protocol.md
        1.7)."""

    def abort(self) -> None:
        """Drop the TCP connection now, without a close frame."""
