"""Running a write as one transaction, and running it again from the start when it must.

Two reasons to start over, both ending the transaction first so that no lock is carried over:

- the write finds it locked the wrong rows (``StartOver``, raised by the write itself: a task left
  the column it was seen in before its column was locked); it starts over at once;
- the database gave up on the transaction, a deadlock or a serialization failure (PostgreSQL
  SQLSTATE 40P01, 40001). The lock order in ``services`` keeps the board's own writes from
  deadlocking each other, so this is the safety net for what it cannot foresee; each retry is
  logged, after a short random pause so that the two sides of a deadlock do not meet again.

Only a transaction of our own is started over: inside someone else's (the admin wraps its views in
one) a database failure is raised as it is, since the outer transaction holds locks we cannot
release. A ``StartOver`` there rolls back to the savepoint, which releases what the write locked.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, connection, transaction

log = logging.getLogger("board.transactions")

T = TypeVar("T")

START_OVER_LIMIT = 10
DATABASE_RETRIES = 4
RETRY_PAUSE = 0.02  # seconds; the pause before retry n is random, up to n times this
RETRYABLE = {"40P01": "deadlock", "40001": "serialization failure"}


class StartOver(Exception):
    """The transaction locked rows that turned out not to be the ones it needs."""


def retryable(error: DatabaseError) -> str | None:
    """What went wrong, when ``error`` is a failure that running again can cure; else None."""
    cause = error.__cause__
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return RETRYABLE.get(code) if isinstance(code, str) else None


def run_in_transaction(write: Callable[[], T], *, what: str = "write") -> T:
    """``write()`` in a transaction, run again from the start as the module says."""
    ours = not connection.in_atomic_block
    starts_over = failures = 0
    while True:
        try:
            with transaction.atomic():
                return write()
        except StartOver:
            starts_over += 1
            if starts_over >= START_OVER_LIMIT:
                raise RuntimeError(f"{what}: its rows kept changing while being locked") from None
        except DatabaseError as error:
            reason = retryable(error)
            if not ours or reason is None or failures >= DATABASE_RETRIES:
                raise
            failures += 1
            log.warning("%s: %s, starting the transaction again (retry %d)", what, reason, failures)
            time.sleep(random.uniform(0, RETRY_PAUSE * failures))
