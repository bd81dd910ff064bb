"""File descriptors: the limit a server of many sockets runs into, made visible.

Every connection holds a descriptor. When none is left, the event loop cannot accept a connection
and drops it (uvloop accepts and closes it at once), and nothing of it reaches the server: without
a check, clients would fail and the log would say nothing. :class:`DescriptorWatch` checks once a
second whether a descriptor can still be had and says so when it cannot, and again when it can.
At start, :func:`fit_to_descriptors` lifts the soft limit towards the hard one when
``--max-connections`` needs more, and lowers the connection limit to what the descriptors allow if
that is still short: past it, joins are refused with 4409 and a reason instead of being dropped.
"""

from __future__ import annotations

import errno
import os
import resource
from dataclasses import replace
from typing import Final

from signaling.config import Settings

RESERVE: Final = 64  # descriptors kept for logs, the broker, listening sockets and HTTP requests


def fit_to_descriptors(settings: Settings) -> tuple[Settings, int, str | None]:
    """``settings`` with ``max_connections`` within the descriptor limit (raised first if it
    can be); also the limit, and a note saying what was lowered, if anything."""
    limit, short = raise_limit(settings.max_connections)
    if not short:
        return settings, limit, None
    allowed = max(1, limit - RESERVE)
    note = (
        f"--max-connections lowered from {settings.max_connections} to {allowed}: this process "
        f"may open {limit} file descriptors (ulimit -n)"
    )
    return replace(settings, max_connections=allowed), limit, note


def raise_limit(max_connections: int) -> tuple[int, bool]:
    """Lift the soft descriptor limit as far as ``max_connections`` needs and the hard limit
    allows; return the limit now and whether it is still too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + RESERVE
    if soft < wanted and (hard == resource.RLIM_INFINITY or soft < hard):
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft, soft < wanted


def descriptor_available() -> bool:
    """Whether this process can still open a file descriptor."""
    try:
        spare = os.dup(2)
    except OSError as exc:
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            return False
        raise
    os.close(spare)
    return True


class DescriptorWatch:
    """Notices running out of descriptors, and running out no longer. No timers of its own."""

    REPEAT_SECONDS: Final = 10.0

    def __init__(self) -> None:
        self.exhausted_since: float | None = None
        self._last_report = 0.0

    def check(self, now: float, available: bool) -> str | None:
        """``available`` as of ``now``: "exhausted" (to log: first, then every 10 s while it
        lasts), "recovered", or None when there is nothing new to say."""
        if not available:
            if self.exhausted_since is None:
                self.exhausted_since = self._last_report = now
                return "exhausted"
            if now - self._last_report >= self.REPEAT_SECONDS:
                self._last_report = now
                return "exhausted"
            return None
        if self.exhausted_since is not None:
            self.exhausted_since = None
            return "recovered"
        return None
