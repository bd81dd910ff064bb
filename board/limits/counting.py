"""Fixed-window request counts: ``count`` one request, ``uncount`` one taken back.

A rate ``N/minute`` allows N requests per client in each calendar minute (hour, …) of the clock;
the N+1st is refused until the window ends, which is what ``Verdict.wait`` says. (So a client may
send up to 2N in the seconds around a window's end: the price of one row per client and window.)

Counting is one transaction: increment the row with ``F("count") + 1`` (or create it), then read
it. On PostgreSQL the increment locks the row until commit, so simultaneous requests queue on it
and each reads its own total; on SQLite every transaction takes the write lock at ``BEGIN``.
When a window's first request creates its row, rows of windows that have ended are deleted.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F

from board.limits.models import RequestCount

log = logging.getLogger("board.limits")

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    """At most ``requests`` per ``seconds``."""

    requests: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"10/minute"``: a number, a slash and one of ``PERIODS`` (settings check the text)."""
        count, _, period = text.partition("/")
        return cls(int(count), PERIODS[period])


@dataclass(frozen=True)
class Verdict:
    """One counted request: its number in the window, and whether that is within the rate."""

    scope: str
    ident: str
    window: int
    number: int
    allowed: bool
    wait: int  # seconds until the window ends (when a refused request may try again)


def count(scope: str, ident: str, rate: Rate) -> Verdict:
    """Count one request of ``ident`` against ``scope``'s ``rate``."""
    now = time.time()
    window = int(now // rate.seconds)
    ends = (window + 1) * rate.seconds
    number = _increment(scope, ident, window, datetime.fromtimestamp(ends, UTC))
    if number == 1:
        _forget_ended(datetime.fromtimestamp(now, UTC))
    return Verdict(
        scope=scope,
        ident=ident,
        window=window,
        number=number,
        allowed=number <= rate.requests,
        wait=max(1, math.ceil(ends - now)),
    )


def uncount(verdict: Verdict) -> None:
    """Take back the request ``verdict`` counted (a login that succeeded is not a guess)."""
    rows = RequestCount.objects.filter(
        scope=verdict.scope, ident=verdict.ident, window=verdict.window, count__gt=0
    )
    rows.update(count=F("count") - 1)


def _increment(scope: str, ident: str, window: int, expires: datetime) -> int:
    """The row's count after adding one, creating the row when this is the window's first."""
    rows = RequestCount.objects.filter(scope=scope, ident=ident, window=window)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RequestCount.objects.create(
                        scope=scope, ident=ident, window=window, count=1, expires=expires
                    )
                return 1
            except IntegrityError:  # a simultaneous request created it first
                rows.update(count=F("count") + 1)
        return int(rows.values_list("count", flat=True).get())


def _forget_ended(now: datetime) -> None:
    """Delete the rows of windows that have ended; a failure only leaves them for next time."""
    try:
        with transaction.atomic():
            RequestCount.objects.filter(expires__lte=now).delete()
    except DatabaseError as exc:
        log.warning("old request counts not deleted (deleted next time): %s", exc)
