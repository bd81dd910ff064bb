"""Posting board events to signaling's hook, off the request thread.

Format (docs/protocol.md 1.5): ``POST WATERCOOLER_HOOK_URL`` with the body
``{"sprint": "<id>", "event": {...}}`` and ``Authorization: Bearer <JWT>``, the JWT being HS256 with
``WATERCOOLER_SECRET``, ``aud`` = ``watercooler/hook``, ``exp`` 30 s ahead, ``body_sha256`` of the
exact body bytes and a random ``jti`` (single use).

Why a thread: a hook must never fail or slow the user's request, and signaling may be down or slow.
Events are queued (bounded; when full the newest is dropped and logged) and one daemon thread posts
them in order with a short timeout. Failures are logged, never raised. Tests call :func:`drain`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings

log = logging.getLogger("board.hooks")

HOOK_AUDIENCE = "watercooler/hook"
HOOK_TOKEN_TTL = 30
QUEUE_SIZE = 1000


@dataclass(frozen=True)
class HookRequest:
    """One signed hook request, ready to post."""

    body: bytes
    headers: dict[str, str]


def sign_hook(sprint_id: int | str, event: dict[str, Any], *, secret: str) -> HookRequest:
    """The body and headers of the hook request announcing ``event`` to sprint ``sprint_id``."""
    body = json.dumps({"sprint": str(sprint_id), "event": event}, separators=(",", ":")).encode()
    now = int(time.time())
    claims = {
        "aud": HOOK_AUDIENCE,
        "iat": now,
        "exp": now + HOOK_TOKEN_TTL,
        "jti": secrets.token_urlsafe(16),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    token = jwt.encode(claims, secret, algorithm="HS256")
    return HookRequest(
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


class HookPoster:
    """A queue of (sprint, event) and the one thread that posts them to ``url``."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, int | str, dict[str, Any]]] = queue.Queue(QUEUE_SIZE)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None

    def post(self, sprint_id: int | str, event: dict[str, Any]) -> None:
        """Queue ``event`` for ``sprint_id``; returns at once. A disabled hook URL drops it."""
        url = settings.WATERCOOLER_HOOK_URL
        if not url:
            log.debug("hook disabled (WATERCOOLER_HOOK_URL is empty); event dropped")
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="board-hooks", daemon=True)
                self._thread.start()
            try:
                self._queue.put_nowait((url, sprint_id, event))
            except queue.Full:
                log.error("hook queue full (%d): dropped %s event", QUEUE_SIZE, _describe(event))
                return
            self._pending += 1

    def drain(self, timeout: float) -> bool:
        """Wait until every queued event has been attempted; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def _run(self) -> None:
        # The hook URL is internal: proxies from the environment must not apply to it.
        session = requests.Session()
        session.trust_env = False
        while True:
            url, sprint_id, event = self._queue.get()
            try:
                self._send(session, url, sprint_id, event)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _send(
        self, session: requests.Session, url: str, sprint_id: int | str, event: dict[str, Any]
    ) -> None:
        what = _describe(event)
        try:
            hook = sign_hook(sprint_id, event, secret=settings.WATERCOOLER_SECRET)
            response = session.post(
                url, data=hook.body, headers=hook.headers, timeout=settings.WATERCOOLER_HOOK_TIMEOUT
            )
        except requests.RequestException as exc:
            log.warning("hook %s for sprint %s not delivered: %s", what, sprint_id, exc)
            return
        except Exception:  # a bug here must not kill the thread that posts every later event
            log.exception("hook %s for sprint %s failed", what, sprint_id)
            return
        if response.status_code == 202:
            log.info("hook %s for sprint %s: %s", what, sprint_id, response.text.strip())
        else:
            log.warning(
                "hook %s for sprint %s refused: HTTP %s %s",
                what,
                sprint_id,
                response.status_code,
                response.text.strip()[:200],
            )


def _describe(event: dict[str, Any]) -> str:
    model = str(event.get("model", "?"))
    item = event.get(model)
    if not isinstance(item, dict):
        item = {}
    return f"({model} {item.get('id', '?')} {event.get('action', '?')})"


poster = HookPoster()


def post_event(sprint_id: int | str, event: dict[str, Any]) -> None:
    """Queue a board event for a sprint's room (see :class:`HookPoster`)."""
    poster.post(sprint_id, event)


def drain(timeout: float = 5.0) -> bool:
    """Wait for queued hooks to be attempted (for tests and orderly shutdown)."""
    return poster.drain(timeout)
