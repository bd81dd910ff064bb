"""A small real HTTP server that records the hook requests the board sends (for event tests).

The end-to-end tests use the real signaling server instead; this one lets the board's side be
checked in detail (exact body bytes, headers, order) without a websocket.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedHook:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data


class HookReceiver:
    """Listens on 127.0.0.1 (a free port); answers 202.

    With ``hold=True`` it answers nothing until :meth:`release` (like a signaling that is stuck or
    black-holed), and counts the requests it is holding (:meth:`wait_held`).
    """

    def __init__(self, *, hold: bool = False) -> None:
        self.received: list[ReceivedHook] = []
        self.released = threading.Event()
        if not hold:
            self.released.set()
        self._held = 0
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver._hold()
                receiver.received.append(ReceivedHook(self.path, dict(self.headers), body))
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"delivered":0}')

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def _hold(self) -> None:
        with self._changed:
            self._held += 1
            self._changed.notify_all()
        self.released.wait()
        with self._changed:
            self._held -= 1
            self._changed.notify_all()

    def wait_held(self, count: int, timeout: float) -> None:
        """Wait until ``count`` requests are being held at once; fail after ``timeout``."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._held >= count, timeout):
                raise AssertionError(
                    f"{self._held} request(s) held, not {count}, after {timeout} s"
                )

    def release(self) -> None:
        """Answer the held requests, and every later one at once."""
        self.released.set()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hooks/board"

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


WAIT = 5.0  # for the board's hook queue to drain


def task_names(receiver: HookReceiver) -> list[str]:
    """The names of the tasks in the events ``receiver`` got, in order."""
    return [h.json["event"]["task"]["name"] for h in receiver.received]
