"""Bounded waits for a condition: every test waits through these, never for a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

WAIT = 15.0  # generous: the machine is shared, and a wait ends as soon as its condition holds


async def wait_until(
    predicate: Callable[[], object], timeout: float = WAIT, what: str = "condition"
) -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)
