"""The real signaling server as a subprocess on a free port, for the board's end-to-end tests.

The process and websocket helpers are the suite's shared ones (``tests/support``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.processes import SignalingProcess, free_port
from tests.support.websocket import (
    WAIT,
    receive_close_with_reason,
    receive_json,
    receive_type,
)

__all__ = [
    "WAIT",
    "SignalingProcess",
    "free_port",
    "receive_close_with_reason",
    "receive_json",
    "receive_type",
    "running_signaling",
]


@contextmanager
def running_signaling(secret: str) -> Iterator[SignalingProcess]:
    """``python -m signaling`` on 127.0.0.1:<free port> with ``secret``; stopped on exit."""
    server = SignalingProcess(secret).wait_ready()
    try:
        yield server
    finally:
        server.stop()
