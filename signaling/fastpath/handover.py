"""A connection handed to aiohttp before its first request head is complete.

The sniffer (``listener.UpgradeSniffer``) keeps at most ``MAX_HEAD_BYTES`` of a head; a longer one
goes to aiohttp's request handler, which reads the rest (up to its own limits, far above ours).
Until that head ends, the connection still counts against ``--max-unjoined-per-address`` and
still has to finish it within ``--http-timeout``: otherwise a head that starts long and then
trickles would let one address hold any number of connections. :class:`HeadWatch` stands between
the transport and aiohttp's handler for that time, passing everything on as it comes, and steps
aside once the head's blank line has been seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

HEAD_END: Final = b"\r\n\r\n"


class HeadWatch(asyncio.Protocol):
    """Passes a connection's events to ``handler`` and calls ``done`` once, when the first head
    has ended or the connection is gone; closes it if the head is not done by ``deadline`` (the
    event loop's time)."""

    __slots__ = ("_done", "_handler", "_tail", "_timer", "_transport")

    def __init__(
        self,
        handler: asyncio.Protocol,
        transport: asyncio.Transport,
        done: Callable[[], None],
        deadline: float,
    ) -> None:
        self._handler = handler
        self._transport: asyncio.Transport | None = transport
        self._done: Callable[[], None] | None = done
        self._tail = b""  # the last bytes seen, so that a blank line split across reads is found
        self._timer: asyncio.TimerHandle | None = asyncio.get_running_loop().call_at(
            deadline, self._too_slow
        )

    def data_received(self, data: bytes) -> None:
        self._handler.data_received(data)
        if self._done is None:
            return
        seen = self._tail + data
        if HEAD_END in seen:
            transport = self._transport
            self._finish()
            if transport is not None and not transport.is_closing():
                transport.set_protocol(self._handler)  # the rest is aiohttp's alone
        else:
            self._tail = seen[-(len(HEAD_END) - 1) :]

    def eof_received(self) -> bool | None:
        return self._handler.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()

    def _too_slow(self) -> None:
        """No whole head in time: as for any other connection, it is closed."""
        self._timer = None
        transport = self._transport
        if transport is not None:
            transport.close()

    def _finish(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        done, self._done = self._done, None
        self._transport = None
        if done is not None:
            done()
