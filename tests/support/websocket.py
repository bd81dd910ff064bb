"""Websocket helpers for tests that talk to the real signaling server: every wait is bounded."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

WAIT = 5.0  # generous bound for every network wait
# For a client session's HTTP requests and websocket handshakes (a websocket, once open, is not
# bound by it): aiohttp's default is 300 s.
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=15.0)


def client_session(**kwargs: Any) -> aiohttp.ClientSession:
    """An aiohttp client session whose requests and handshakes are bounded (CLIENT_TIMEOUT)."""
    return aiohttp.ClientSession(timeout=CLIENT_TIMEOUT, **kwargs)


async def receive_json(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT
) -> dict[str, Any]:
    """The next frame, which must be a JSON object in a text frame."""
    msg = await ws.receive(timeout=timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg.type} {msg.data!r}"
    data = json.loads(msg.data)
    assert isinstance(data, dict)
    return data


async def receive_type(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = WAIT
) -> dict[str, Any]:
    """The next message, which must be of type ``kind``."""
    message = await receive_json(ws, timeout)
    assert message["type"] == kind, f"expected {kind!r}, got {message}"
    return message


async def receive_close_with_reason(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT
) -> tuple[int | None, str]:
    """Read (and drop) messages until the server closes; return the close code and reason."""
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type is aiohttp.WSMsgType.CLOSE:
            return msg.data, msg.extra or ""
        if msg.type in (
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.ERROR,
        ):
            return ws.close_code, ""


async def receive_close(ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT) -> int | None:
    """Read (and drop) messages until the server closes; return the close code."""
    code, _ = await receive_close_with_reason(ws, timeout)
    return code


async def expect_nothing_pending(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT
) -> None:
    """Nothing was sent to ``ws`` so far: a ``ping``'s ``pong`` is the next message.

    The server answers each socket in order, so anything queued for ``ws`` before the ping would
    arrive first. Wait for the server to have handled whatever might have reached ``ws`` (the
    sender's own answer, a poll of ``/healthz``) before calling this.
    """
    await ws.send_json({"type": "ping"})
    message = await receive_json(ws, timeout)
    assert message == {"type": "pong"}, f"expected nothing before the pong, got {message}"
