"""Running board requests at the same moment from threads, each with its own database
connection (``test_concurrency``, ``test_throttle_counts``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

THREAD_TIMEOUT = 30


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            outcomes[index] = calls[index]()
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
        assert not thread.is_alive(), "a move did not finish in time (deadlock?)"
    return outcomes
