"""Listening: the fast path takes the plain websocket upgrades, aiohttp everything else.

:class:`UpgradeSniffer` is the protocol of every new TCP connection. It reads the first request
head (within ``--http-timeout``). If that head is a canonical ``GET /ws HTTP/1.1`` upgrade that the
handshake rules accept from an allowed origin, the fast path answers ``101`` and serves the
websocket with :class:`~signaling.fastpath.connection.FastConnection`. Anything else (hooks,
``/healthz``, an upgrade as a later keep-alive request, an absolute-form target, folded or odd
headers, any upgrade it would refuse) is handed, bytes and all, to aiohttp's request handler, whose
``/ws`` route serves or refuses it with the same rules (``signaling.aiohttp_transport``).

Every connection counts against ``--max-unjoined-per-address`` until its first head is complete,
including one whose head outgrows the sniffer and goes to aiohttp unfinished (``HeadWatch``); a
connection over the cap is closed at once, counted and logged (at a bounded rate).

:class:`FastPathRunner` is an ``AppRunner`` whose protocol factory is the sniffer, so every aiohttp
site (``TCPSite``, ``SockSite``, the test server) listens this way.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any, Final, cast

from aiohttp import web

from signaling.fastpath.connection import FastConnection, HeldWrites
from signaling.fastpath.handover import HeadWatch
from signaling.handshake import WEBSOCKET_PATH, HandshakeRefused, Upgrade, check_upgrade
from signaling.logs import log_event
from signaling.ratelimit import LogThrottle
from signaling.service import SignalingService

MAX_HEAD_BYTES: Final = 8190  # a longer head is aiohttp's to read (HeadWatch keeps it counted)
# aiohttp's parser refuses a head with more header lines than this (400), and so does the fast
# path, by handing such a head to aiohttp.
MAX_HEADERS: Final = 128
# A header name is a token (RFC 9110 5.6.2); aiohttp refuses any other with 400.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
REFUSAL_LOG_INTERVAL: Final = 10.0  # seconds between two lines about connections over the cap


class FastPath:
    """Accepts the upgrades the sniffers found, for one service."""

    def __init__(self, service: SignalingService) -> None:
        self.service = service
        self.writes = HeldWrites()
        self.waiting: dict[str, int] = {}  # address -> connections that sent no whole head yet
        self._refusals = LogThrottle(REFUSAL_LOG_INTERVAL)
        self._loop: asyncio.AbstractEventLoop | None = None

    def head_deadline(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """A timer for a new connection's first head. The loop is remembered:
        ``asyncio.get_running_loop()`` makes a ``getpid()`` system call each time (its fork
        check), one per connection otherwise."""
        loop = self._loop
        if loop is None or not loop.is_running():
            loop = self._loop = asyncio.get_running_loop()
        return loop.call_later(delay, callback)

    def arrived(self, address: str) -> bool:
        """A new connection from ``address``; False if that address has more connections
        waiting to finish their first request than ``--max-unjoined-per-address`` (a trusted
        proxy's are not counted: it carries many clients)."""
        settings = self.service.settings
        count = self.waiting.get(address, 0)
        if count >= settings.max_unjoined_per_address and address not in settings.trusted_proxies:
            self._refused(address, count)
            return False
        self.waiting[address] = count + 1
        return True

    def _refused(self, address: str, count: int) -> None:
        """Count a connection closed over the cap; log it, at most once per interval."""
        self.service.core.counters.rejects["address-full"] += 1
        held = self._refusals.allow(time.monotonic())
        if held is None:
            return
        log_event(
            "refused",
            logging.INFO,
            reason="address-full",
            addr=address,
            detail=f"closed before its first request: {count} connections from this address "
            "have not finished one",
            unlogged=held or None,
        )

    def settled(self, address: str) -> None:
        """That connection sent its head, or went."""
        left = self.waiting.get(address, 0) - 1
        if left > 0:
            self.waiting[address] = left
        else:
            self.waiting.pop(address, None)

    def upgrade_for(self, head: bytes) -> Upgrade | None:
        """The accepted upgrade ``head`` asks for, or None if aiohttp should answer it."""
        parsed = parse_canonical_head(head)
        if parsed is None:
            return None
        target, headers = parsed
        if target.partition("?")[0] != WEBSOCKET_PATH:
            return None
        try:
            upgrade = check_upgrade("GET", (1, 1), headers)
        except HandshakeRefused:
            return None
        if not self.service.settings.origin_allowed(upgrade.origin):
            return None
        return upgrade

    def accept(self, transport: asyncio.Transport, upgrade: Upgrade, rest: bytes) -> None:
        transport.write(handshake_response(upgrade.accept))
        settings = self.service.settings
        connection = FastConnection(
            transport,
            service=self.service,
            writes=self.writes,
            max_message=settings.max_frame_bytes,
            max_buffer=settings.send_buffer_bytes,
            close_timeout=settings.close_timeout,
        )
        transport.set_protocol(connection)
        peername = transport.get_extra_info("peername")
        peer = str(peername[0]) if peername else "?"
        connection.start(upgrade.client_address(peer, settings.trusted_proxies))
        if rest:
            connection.data_received(rest)


def parse_canonical_head(head: bytes) -> tuple[str, list[tuple[str, str]]] | None:
    """``GET <target> HTTP/1.1`` and its header lines, if the head has exactly that plain form.

    None for anything else (another method or version, an empty line first, an absolute-form
    target, a folded or malformed header line, a header name that is not a token, more than
    ``MAX_HEADERS`` headers): aiohttp's parser then reads it instead, and refuses what it must.
    """
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[0] != "GET" or parts[2] != "HTTP/1.1":
        return None
    if not parts[1].startswith("/"):
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or _TOKEN.fullmatch(name) is None:
            return None
        headers.append((name, value.strip(" \t")))
    if len(headers) > MAX_HEADERS:
        return None
    return parts[1], headers


def _bare_line_end(buffer: bytes) -> bool:
    """Whether a head has an LF or CR that is not part of a CRLF (aiohttp answers it with 400;
    the end of a complete head would never be found)."""
    cleaned = buffer.replace(b"\r\n", b"")
    return b"\n" in cleaned or b"\r" in cleaned[:-1]


def handshake_response(accept: str) -> bytes:
    """``101 Switching Protocols``; no extension or subprotocol is agreed."""
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


class UpgradeSniffer(asyncio.Protocol):
    """Reads a connection's first request head, then hands the connection to its real owner."""

    __slots__ = (
        "_address",
        "_buffer",
        "_deadline",
        "_fast",
        "_head_timeout",
        "_http",
        "_transport",
    )

    def __init__(
        self, http: Callable[[], asyncio.Protocol], fast: FastPath, head_timeout: float
    ) -> None:
        self._http = http
        self._fast = fast
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._deadline: asyncio.TimerHandle | None = None
        self._head_timeout = head_timeout
        self._address: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        peername = transport.get_extra_info("peername")
        address = str(peername[0]) if peername else "?"
        if not self._fast.arrived(address):
            # One address holding many silent connections would use up the descriptors.
            self._transport = None
            transport.close()
            return
        self._address = address
        self._deadline = self._fast.head_deadline(self._head_timeout, self._too_slow)

    def _too_slow(self) -> None:
        """No complete head in time: a slow or silent client holds nothing for long."""
        self._deadline = None
        if self._transport is not None:
            self._transport.close()

    def _release(self) -> asyncio.Transport:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if self._address is not None:
            self._fast.settled(self._address)
            self._address = None
        transport, self._transport, self._buffer = self._transport, None, b""
        assert transport is not None
        return transport

    def data_received(self, data: bytes) -> None:
        if self._transport is None:
            return
        buffer = self._buffer + data if self._buffer else data
        end = buffer.find(b"\r\n\r\n")
        if end < 0 or end > MAX_HEAD_BYTES:
            if end < 0 and (len(buffer) > MAX_HEAD_BYTES or _bare_line_end(buffer)):
                self._hand_unfinished_to_http(buffer)  # aiohttp reads on, or refuses it
            elif end < 0:
                self._buffer = buffer
            else:
                self._hand_to_http(buffer)
            return
        end += 4
        upgrade = self._fast.upgrade_for(buffer[:end]) if buffer.startswith(b"GET /ws") else None
        if upgrade is None:
            self._hand_to_http(buffer)
        else:
            self._fast.accept(self._release(), upgrade, buffer[end:])

    def _hand_to_http(self, buffer: bytes) -> None:
        """A whole first head that aiohttp is to answer: the connection is no longer waiting."""
        transport = self._release()
        handler = self._http()
        transport.set_protocol(handler)
        handler.connection_made(transport)
        handler.data_received(buffer)

    def _hand_unfinished_to_http(self, buffer: bytes) -> None:
        """A head aiohttp is to read on: counted and timed until it ends (``HeadWatch``)."""
        transport, address, deadline = self._transport, self._address, self._deadline
        if transport is None or address is None or deadline is None:
            return  # out of time already: the connection is closing
        self._transport, self._address, self._deadline, self._buffer = None, None, None, b""
        deadline.cancel()
        fast = self._fast
        handler = self._http()
        watch = HeadWatch(
            handler, transport, done=lambda: fast.settled(address), deadline=deadline.when()
        )
        transport.set_protocol(watch)
        handler.connection_made(transport)
        watch.data_received(buffer)

    def eof_received(self) -> bool | None:
        return None  # nothing complete arrived: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._release()


class FastPathRunner(web.AppRunner):
    """``AppRunner`` whose connections start with an :class:`UpgradeSniffer`."""

    __slots__ = ("_fast",)

    def __init__(self, app: web.Application, service: SignalingService, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._fast = FastPath(service)

    @property
    def server(self) -> Any:  # what sites pass to loop.create_server: a protocol factory
        http = super().server
        if http is None:
            return None
        fast = self._fast
        timeout = fast.service.settings.http_timeout
        return lambda: UpgradeSniffer(http, fast, timeout)
