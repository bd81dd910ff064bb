"""The signaling client: one websocket to the signaling server that survives drops.

:class:`SignalingClient` joins a sprint with a ticket (docs/protocol.md section 1), hands every
server message to one async callback strictly in order, and sends without awaiting (a writer task
drains a queue, so a sender on an aiortc callback never blocks). When the socket drops it reconnects
with capped exponential backoff and jitter (:func:`backoff_delay`) and rejoins with the ``resume``
token from the last ``welcome``, so the peer id stays the same. A join refused with 4401 (ticket
expired) fetches a fresh ticket through the ``ticket_source`` callback and tries again.

The client never interprets ``welcome``/``signal``/``relay``: that is the session's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

import aiohttp

from peer_client.errors import SignalingError

log = logging.getLogger("peer_client.signaling")

CLOSE_TICKET: Final = 4401
CLOSE_REPLACED: Final = 4000
CLOSE_FULL: Final = 4409

SignalingState = Literal["new", "connecting", "joined", "reconnecting", "closed"]


@dataclass(frozen=True, slots=True)
class Ticket:
    """Where to connect and what to join with (the board's ``links.signaling``)."""

    url: str
    ticket: str


TicketSource = Callable[[], Awaitable[Ticket]]
MessageHandler = Callable[[dict[str, Any], str], Awaitable[None]]
"""Called with each message and the text of the frame it came in (a relayed message is judged on
that text, docs/protocol.md 2.6)."""
StateHandler = Callable[[str, str], None]


def backoff_delay(
    attempt: int,
    *,
    base: float = 0.25,
    cap: float = 10.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before reconnect ``attempt`` (0, 1, 2, ...): capped exponential, jittered.

    The ceiling doubles from ``base`` up to ``cap``; the delay is half the ceiling plus a random
    share of the other half, so many clients dropped at once do not come back in step.
    """
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    return ceiling / 2 + rand() * ceiling / 2


class SignalingClient:
    """A reconnecting signaling connection for one sprint.

    ``state`` is one of ``"new"``, ``"connecting"`` (first join under way), ``"joined"``,
    ``"reconnecting"`` (socket lost; retrying with backoff) and ``"closed"`` (after :meth:`close`,
    or when the server said this peer was replaced by a newer connection).
    """

    def __init__(
        self,
        ticket: Ticket,
        ticket_source: TicketSource,
        on_message: MessageHandler,
        *,
        on_state: StateHandler | None = None,
        backoff_base: float = 0.25,
        backoff_cap: float = 10.0,
        join_timeout: float = 10.0,
        heartbeat: float = 15.0,
    ) -> None:
        self._ticket = ticket
        self._ticket_source = ticket_source
        self._on_message = on_message
        self._on_state = on_state
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._join_timeout = join_timeout
        self._heartbeat = heartbeat
        self._state: SignalingState = "new"
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self.peer: str | None = None
        self.resume: str | None = None
        self.reconnects = 0
        self.closed_reason: str | None = None

    @property
    def state(self) -> SignalingState:
        return self._state

    @property
    def url(self) -> str:
        return self._ticket.url

    def _set_state(self, new: SignalingState) -> None:
        old, self._state = self._state, new
        if old != new:
            log.debug("signaling %s -> %s", old, new)
            if self._on_state is not None:
                self._on_state(old, new)

    async def connect(self) -> dict[str, Any]:
        """Join for the first time; returns ``welcome`` (also passed to ``on_message``).

        Raises :class:`SignalingError` if the server cannot be reached or refuses the join (after
        one fresh ticket when the first is refused with 4401). Then keeps the connection alive in
        the background until :meth:`close`.
        """
        if self._state != "new":
            raise RuntimeError("connect() may be called once")
        self._set_state("connecting")
        self._http = aiohttp.ClientSession()
        try:
            try:
                ws, welcome, text = await self._open_once()
            except SignalingError as exc:
                if exc.close_code != CLOSE_TICKET:
                    raise
                self._ticket = await self._ticket_source()
                ws, welcome, text = await self._open_once()
        except BaseException:
            await self.close()
            raise
        await self._adopt(ws, welcome, text)
        self._runner = asyncio.create_task(self._run(ws), name="signaling")
        return welcome

    def send(self, message: dict[str, Any]) -> bool:
        """Queue ``message`` for the server; False (dropped) while not joined."""
        if self._state != "joined" or self._outbox is None:
            return False
        self._outbox.put_nowait(json.dumps(message, separators=(",", ":")))
        return True

    async def close(self) -> None:
        """Close the socket (the server tells the others) and stop reconnecting. Idempotent."""
        if self._state == "closed" and self._http is None:
            return
        self._set_state("closed")
        runner, self._runner = self._runner, None
        if runner is not None and runner is not asyncio.current_task():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        await self._drop_socket(flush=True)
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    # --- one connection ----------------------------------------------------------------------

    async def _open_once(self) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any], str]:
        assert self._http is not None
        url = self._ticket.url
        try:
            ws = await self._http.ws_connect(
                url, heartbeat=self._heartbeat, timeout=aiohttp.ClientWSTimeout(ws_close=2.0)
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise SignalingError(f"cannot reach signaling at {url}: {describe(exc)}") from None
        join: dict[str, Any] = {"type": "join", "ticket": self._ticket.ticket}
        if self.resume:
            join["resume"] = self.resume
        try:
            await ws.send_str(json.dumps(join))
            async with asyncio.timeout(self._join_timeout):
                while True:
                    msg = await ws.receive()
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        data = json.loads(msg.data)
                        if isinstance(data, dict) and data.get("type") == "welcome":
                            return ws, data, msg.data
                        if isinstance(data, dict) and data.get("type") == "error":
                            raise SignalingError(
                                f"signaling refused the join: {data.get('message')}"
                            )
                    elif msg.type in (
                        aiohttp.WSMsgType.CLOSE,
                        aiohttp.WSMsgType.CLOSING,
                        aiohttp.WSMsgType.CLOSED,
                        aiohttp.WSMsgType.ERROR,
                    ):
                        code = ws.close_code
                        reason = msg.extra if isinstance(msg.extra, str) and msg.extra else ""
                        detail = f"{code}: {reason}" if reason else str(code)
                        raise SignalingError(
                            f"signaling closed the connection ({detail})", close_code=code
                        )
        except TimeoutError:
            await ws.close()
            raise SignalingError(f"no welcome from {url} within {self._join_timeout:g} s") from None
        except BaseException:
            await ws.close()
            raise

    async def _adopt(
        self, ws: aiohttp.ClientWebSocketResponse, welcome: dict[str, Any], text: str
    ) -> None:
        """Make ``ws`` the live socket and hand its ``welcome`` on."""
        self._ws = ws
        self._outbox = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(ws, self._outbox), name="signaling-writer")
        peer, resume = welcome.get("peer"), welcome.get("resume")
        self.peer = peer if isinstance(peer, str) else self.peer
        self.resume = resume if isinstance(resume, str) else None
        self._set_state("joined")
        await self._on_message(welcome, text)

    async def _write(self, ws: aiohttp.ClientWebSocketResponse, outbox: asyncio.Queue[str]) -> None:
        while True:
            text = await outbox.get()
            try:
                await ws.send_str(text)
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                log.debug("signaling send failed: %s", exc)
                return
            finally:
                outbox.task_done()

    async def _drop_socket(self, *, flush: bool) -> None:
        writer, self._writer = self._writer, None
        outbox, self._outbox = self._outbox, None
        ws, self._ws = self._ws, None
        if writer is not None:
            if flush and outbox is not None and ws is not None and not ws.closed:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await outbox.join()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    # --- the loop: read, and reconnect when the socket drops ----------------------------------

    async def _run(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            code = await self._read(ws)
            await self._drop_socket(flush=False)
            if self._state == "closed":
                return
            if code == CLOSE_REPLACED:
                self.closed_reason = "replaced: this peer id resumed on another connection"
                log.warning("signaling: %s; not reconnecting", self.closed_reason)
                self._set_state("closed")
                return
            self._set_state("reconnecting")
            log.info("signaling connection lost (%s); reconnecting", code)
            ws, welcome, text = await self._reconnect()
            self.reconnects += 1
            await self._adopt(ws, welcome, text)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> int | None:
        """Hand every message to ``on_message`` in order; returns the close code at the end."""
        while True:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT:
                try:
                    data = json.loads(msg.data)
                except Exception as exc:  # RecursionError too: no frame may end the reader
                    log.warning("signaling sent text that could not be read (%s); ignored", exc)
                    continue
                if isinstance(data, dict):
                    try:
                        await self._on_message(data, msg.data)
                    except Exception:
                        log.exception("handling a signaling %r message failed", data.get("type"))
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return ws.close_code

    async def _reconnect(self) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any], str]:
        attempt = 0
        while True:
            delay = backoff_delay(attempt, base=self._backoff_base, cap=self._backoff_cap)
            await asyncio.sleep(delay)
            attempt += 1
            try:
                return await self._open_once()
            except SignalingError as exc:
                log.info("signaling: rejoin attempt %d failed: %s", attempt, exc)
                if exc.close_code == CLOSE_TICKET:
                    try:
                        self._ticket = await self._ticket_source()
                    except Exception as fetch_error:
                        log.warning("signaling: cannot fetch a fresh ticket: %s", fetch_error)
                    else:
                        attempt = max(0, attempt - 1)


def describe(exc: BaseException) -> str:
    """A short human description of a network error. A connection that failed is described by
    the system's reason ("Connection refused", "Name or service not known"): aiohttp's own text
    names its TLS context ("ssl:default") even for plain http."""
    if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(
        exc, aiohttp.ClientSSLError
    ):
        reason = exc.os_error
        if reason.errno and not isinstance(reason, socket.gaierror):
            return os.strerror(reason.errno)
        return reason.strerror or str(reason) or type(reason).__name__
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]
