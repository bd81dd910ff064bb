"""Sends one session's link reports (docs/protocol.md 1.8) through its signaling connection.

:class:`~peer_client.link_report.LinkReports` decides what is due; this adds the clock and the
retry: what waits over the budget goes out on a timer, and what waits while signaling is away
goes when the session is welcomed again (:meth:`LinkReporter.flush`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from peer_client.link_report import LinkFacts, LinkReports


class LinkReporter:
    """``send`` hands a report to signaling (False while it cannot); ``live`` says whether
    signaling is joined now."""

    def __init__(self, send: Callable[[dict[str, Any]], bool], live: Callable[[], bool]) -> None:
        self.reports = LinkReports()
        self._send = send
        self._live = live
        self._timer: asyncio.TimerHandle | None = None

    def note(self, peer: str, facts: LinkFacts) -> None:
        """Something happened to the link with ``peer`` (the mesh's ``on_outcome``)."""
        if self.reports.note(peer, facts):
            self.flush()

    def flush(self) -> None:
        """Send what waits while signaling is joined; try again later for what is over budget."""
        self._cancel()
        if not self._live():
            return  # the next welcome flushes what still matters
        self.reports.flush(time.monotonic(), self._send)
        wait = self.reports.retry_after
        if wait is not None:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def said_bye(self, peer: str) -> None:
        self.reports.said_bye(peer)

    def forget(self, peer: str) -> None:
        self.reports.forget(peer)

    def clear(self) -> None:
        self.reports.clear()

    def close(self) -> None:
        self._cancel()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
