"""Request counts per client: ``count`` one request, ``uncount`` one taken back.

A rate ``N/minute`` allows N requests per client in a window of one minute that opens with its
first request; the N+1st is refused until the window ends, which is what ``Verdict.wait`` says.
The first request after that opens the next window. (So a client may send up to 2N in the seconds
around the end of one window and the start of the next: the price of one row per client.)

Each request is counted by conditional updates of its client's row, each one statement, so
simultaneous requests never overwrite each other's counts: open a new window if the row's has
ended, else add one if the count is still under the limit. A refused request changes nothing, so a
client over its limit writes nothing however fast it sends. A client's first request creates its
row, and then deletes the rows whose windows have ended (they count nothing any more).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from board.limits.models import RequestCount

log = logging.getLogger("board.limits")

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
ATTEMPTS = 3


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
    """One request: allowed (and counted in the window ending at ``expires``) or refused."""

    scope: str
    ident: str
    allowed: bool
    expires: datetime
    wait: int  # seconds until the window ends (when a refused request may try again)


def count(scope: str, ident: str, rate: Rate) -> Verdict:
    """Count one request of ``ident`` against ``scope``'s ``rate``, if the rate allows it."""
    now = timezone.now()
    rows = RequestCount.objects.filter(scope=scope, ident=ident)
    opened = now + timedelta(seconds=rate.seconds)
    for _attempt in range(ATTEMPTS):
        if rows.filter(expires__lte=now).update(count=1, expires=opened):
            return _verdict(scope, ident, rate, True, opened, now)
        counted = rows.filter(expires__gt=now, count__lt=rate.requests)
        if counted.update(count=F("count") + 1):
            return _verdict(
                scope, ident, rate, True, rows.values_list("expires", flat=True)[0], now
            )
        row = rows.values_list("expires", "count").first()
        if row is None:
            if _create(scope, ident, opened):
                _forget_ended(now)
                return _verdict(scope, ident, rate, True, opened, now)
        elif row[0] > now and row[1] >= rate.requests:
            return _verdict(scope, ident, rate, False, row[0], now)
        # Otherwise a simultaneous request created or reopened the row between our statements.
    # Only reached when the row keeps changing under us; refusing is the safe answer.
    return _verdict(scope, ident, rate, False, now + timedelta(seconds=1), now)


def uncount(verdict: Verdict) -> None:
    """Take back the request ``verdict`` allowed (a login that succeeded is not a guess)."""
    if not verdict.allowed:
        return
    rows = RequestCount.objects.filter(
        scope=verdict.scope, ident=verdict.ident, expires=verdict.expires, count__gt=0
    )
    rows.update(count=F("count") - 1)


def _verdict(
    scope: str, ident: str, rate: Rate, allowed: bool, expires: datetime, now: datetime
) -> Verdict:
    # A simultaneous request may have opened the window a moment after ``now``.
    wait = min(rate.seconds, max(1, math.ceil((expires - now).total_seconds())))
    return Verdict(scope=scope, ident=ident, allowed=allowed, expires=expires, wait=wait)


def _create(scope: str, ident: str, expires: datetime) -> bool:
    """Create the client's row with this request counted; False if a simultaneous request did."""
    try:
        with transaction.atomic():
            RequestCount.objects.create(scope=scope, ident=ident, count=1, expires=expires)
    except IntegrityError:
        return False
    return True


def _forget_ended(now: datetime) -> None:
    """Delete the rows of windows that have ended; a failure only leaves them for next time."""
    try:
        with transaction.atomic():
            RequestCount.objects.filter(expires__lte=now).delete()
    except DatabaseError as exc:
        log.warning("old request counts not deleted (deleted next time): %s", exc)
