"""Listening: aiohttp serves HTTP, and websocket upgrades to ``/ws`` are taken before it sees them.

:class:`UpgradeSniffer` is the protocol of every new TCP connection. It reads the first request
head; a websocket upgrade to ``/ws`` goes to :meth:`SignalingServer.upgrade
<signaling.app.SignalingServer.upgrade>`, anything else (hooks, ``/healthz``, ``/metrics``) is
handed, bytes and all, to aiohttp's own request handler for the rest of the connection's life.

:class:`SignalingRunner` is an ``AppRunner`` whose protocol factory is the sniffer, so every aiohttp
site (``TCPSite``, ``SockSite``, the test server) serves websockets this way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, cast

from aiohttp import web

from signaling import wire
from signaling.app import SERVER

# A connection must send its first request head within this time (a slow or silent client would
# otherwise hold a socket and a descriptor for nothing).
HEAD_TIMEOUT_SECONDS = 10.0


class WebSocketAcceptor(Protocol):
    def upgrade(
        self, transport: asyncio.Transport, head: wire.RequestHead, rest: bytes
    ) -> None: ...


class UpgradeSniffer(asyncio.Protocol):
    """Reads a connection's first request head, then hands the connection to its real owner."""

    __slots__ = ("_buffer", "_deadline", "_http", "_transport", "_websockets")

    def __init__(self, http: Callable[[], asyncio.Protocol], websockets: WebSocketAcceptor) -> None:
        self._http = http
        self._websockets = websockets
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self._deadline = asyncio.get_running_loop().call_later(HEAD_TIMEOUT_SECONDS, self._too_slow)

    def _too_slow(self) -> None:
        self._deadline = None
        if self._transport is not None:
            self._transport.close()

    def _release(self) -> asyncio.Transport:
        """Stop sniffing: the connection now belongs to someone else."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        transport, self._transport, self._buffer = self._transport, None, b""
        assert transport is not None
        return transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        if not wire.could_be_websocket(buffer):
            self._hand_to_http(buffer)
            return
        end = wire.head_end(buffer)
        if end < 0:
            if len(buffer) > wire.MAX_HEAD_BYTES:
                self._hand_to_http(buffer)  # aiohttp answers an oversized head with its 400
            else:
                self._buffer = buffer
            return
        try:
            head = wire.parse_request_head(buffer[:end])
        except wire.HandshakeError:
            self._hand_to_http(buffer)  # aiohttp's parser gives the precise 400
            return
        if not wire.is_websocket_upgrade(head):
            self._hand_to_http(buffer)
            return
        self._websockets.upgrade(self._release(), head, buffer[end:])

    def _hand_to_http(self, buffer: bytes) -> None:
        transport = self._release()
        handler = self._http()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        handler.data_received(buffer)

    def eof_received(self) -> bool | None:
        return None  # nothing complete arrived: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._release()


class SignalingRunner(web.AppRunner):
    """``AppRunner`` whose connections start with an :class:`UpgradeSniffer`."""

    __slots__ = ()

    @property
    def server(self) -> Any:  # what sites pass to loop.create_server: a protocol factory
        http = super().server
        if http is None:
            return None
        websockets: WebSocketAcceptor = self.app[SERVER]
        return lambda: UpgradeSniffer(http, websockets)
