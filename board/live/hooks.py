"""Posting board events to signaling's hook, off the request thread.

Format (docs/protocol.md 1.5): ``POST WATERCOOLER_HOOK_URL`` with the body
``{"sprint": "<id>", "event": {...}}`` and ``Authorization: Bearer <JWT>``, the JWT being HS256 with
``WATERCOOLER_SECRET``, ``aud`` = ``watercooler/hook``, ``exp`` 30 s ahead, ``body_sha256`` of the
exact body bytes and a random ``jti`` (single use).

Why threads: a hook must never fail or slow the user's request, and signaling may be down, slow or
unreachable (a black-holed address holds each request for its whole timeout). So :meth:`post` only
queues, and ``SENDERS`` threads post concurrently, each with its own queue: sprint ``n``'s events
go to sender ``n mod SENDERS``, in order, so one sprint's events never overtake each other.

Events are live updates, worth sending only while they are fresh, so what waits is bounded twice,
and every event given up is counted in :attr:`HookPoster.dropped` and logged:

- in number: a queue holds at most ``QUEUE_LIMIT`` events; when it is full the *oldest* waiting
  event is dropped;
- in time: an event that waited longer than ``WATERCOOLER_HOOK_MAX_AGE`` seconds is dropped when
  its turn comes, instead of being delivered minutes late.

A viewer who misses an event keeps the state from before it until something newer about that task
reaches them (a later event, a peer's hint) or they reload: a task created in a dropped event is
missing from their board, a deleted one stays on it. When the process exits (a gunicorn worker
stopping), it waits up to ``WATERCOOLER_HOOK_EXIT_DRAIN`` seconds for the queues to empty and logs
how many events it leaves undelivered. Failures are logged, never raised. Tests call :func:`drain`.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import secrets
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings

log = logging.getLogger("board.hooks")

HOOK_AUDIENCE = "watercooler/hook"
HOOK_TOKEN_TTL = 30
HOOK_MAX_BYTES = 256 * 1024  # signaling refuses larger bodies with 413 (docs/protocol.md 1.5)
SENDERS = 4
QUEUE_LIMIT = 100  # events waiting per sender


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
    """``SENDERS`` threads, each posting its own bounded queue of (sprint, event) in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # queued or being sent
        self._dropped = 0
        self._exit_registered = False
        self._senders = [_Sender(self, index) for index in range(SENDERS)]

    @property
    def dropped(self) -> int:
        """Events given up unsent since the process started (queue full, too old, exit)."""
        with self._lock:
            return self._dropped

    def post(self, sprint_id: int | str, event: dict[str, Any]) -> None:
        """Queue ``event`` for ``sprint_id``; returns at once. A disabled hook URL drops it."""
        url = settings.WATERCOOLER_HOOK_URL
        if not url:
            log.debug("hook disabled (WATERCOOLER_HOOK_URL is empty); event dropped")
            return
        sender = self._senders[sender_index(sprint_id)]
        with self._lock:
            if not self._exit_registered:
                atexit.register(self.stop)
                self._exit_registered = True
            self._pending += 1
            oldest = sender.push(Job(url, sprint_id, event, time.monotonic()))
            if oldest is not None:
                self._dropped += 1
                self._pending -= 1
                dropped = self._dropped
        if oldest is not None:
            log.error(
                "hook queue %d full (%d waiting, signaling slow or unreachable): dropped the "
                "oldest, %s for sprint %s; %d dropped since start",
                sender.index,
                QUEUE_LIMIT,
                _describe(oldest.event),
                oldest.sprint_id,
                dropped,
            )

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

    def stop(self) -> None:
        """At exit: wait up to ``WATERCOOLER_HOOK_EXIT_DRAIN`` seconds, then say what is left."""
        seconds = float(settings.WATERCOOLER_HOOK_EXIT_DRAIN)
        with self._lock:
            pending = self._pending
        if not pending:
            return
        log.warning(
            "stopping: waiting up to %g s for %d hook events still queued or being sent",
            seconds,
            pending,
        )
        if self.drain(seconds):
            log.info("stopping: every hook event was sent or failed (see above)")
            return
        with self._lock:
            queued = sum(sender.clear() for sender in self._senders)
            being_sent = self._pending - queued
            self._pending -= queued
            self._dropped += queued + being_sent
            dropped = self._dropped
        log.error(
            "stopping with %d hook events undelivered (%d queued, %d being sent; signaling slow "
            "or unreachable): other viewers see those changes when they reload; %d dropped "
            "since start",
            queued + being_sent,
            queued,
            being_sent,
            dropped,
        )

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _too_old(self, sender: _Sender, jobs: list[Job], max_age: float) -> None:
        """Count and log ``jobs``, dropped for waiting longer than ``max_age`` seconds; they stop
        being pending only then, so that :meth:`drain` returns after the line is written."""
        with self._lock:
            self._dropped += len(jobs)
            dropped = self._dropped
        log.error(
            "hook queue %d: dropped %d events that waited over %g s (signaling slow or "
            "unreachable), from %s for sprint %s to %s for sprint %s; %d dropped since start",
            sender.index,
            len(jobs),
            max_age,
            _describe(jobs[0].event),
            jobs[0].sprint_id,
            _describe(jobs[-1].event),
            jobs[-1].sprint_id,
            dropped,
        )
        with self._idle:
            self._pending -= len(jobs)
            self._idle.notify_all()


@dataclass(frozen=True)
class Job:
    """One event to post, and when it was queued (``time.monotonic()``)."""

    url: str
    sprint_id: int | str
    event: dict[str, Any]
    queued: float


class _Sender:
    """One sending thread and its queue; the queue is guarded by the poster's lock."""

    def __init__(self, poster: HookPoster, index: int) -> None:
        self.poster = poster
        self.index = index
        self._queue: deque[Job] = deque()
        self._wakeup = threading.Condition(poster._lock)
        self._thread: threading.Thread | None = None

    def push(self, job: Job) -> Job | None:
        """Queue ``job`` (the poster's lock held); the oldest job, if it had to make room."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name=f"board-hooks-{self.index}", daemon=True
            )
            self._thread.start()
        oldest = self._queue.popleft() if len(self._queue) >= QUEUE_LIMIT else None
        self._queue.append(job)
        self._wakeup.notify()
        return oldest

    def clear(self) -> int:
        """Forget every queued job (the poster's lock held); how many there were."""
        count = len(self._queue)
        self._queue.clear()
        return count

    def _next(self, max_age: float) -> tuple[Job | None, list[Job]]:
        """The next job young enough to send (if any), and the too old ones before it; waits
        for a job first (the poster's lock held)."""
        while not self._queue:
            self._wakeup.wait()
        now = time.monotonic()
        stale: list[Job] = []
        while self._queue and now - self._queue[0].queued > max_age:
            stale.append(self._queue.popleft())
        return (self._queue.popleft() if self._queue else None), stale

    def _run(self) -> None:
        # The hook URL is internal: proxies from the environment must not apply to it.
        session = requests.Session()
        session.trust_env = False
        while True:
            max_age = float(settings.WATERCOOLER_HOOK_MAX_AGE)
            with self._wakeup:
                job, stale = self._next(max_age)
            if stale:
                self.poster._too_old(self, stale, max_age)
            if job is None:
                continue
            try:
                _send(session, job.url, job.sprint_id, job.event)
            finally:
                self.poster._done()


def sender_index(sprint_id: int | str) -> int:
    """Which sender posts ``sprint_id``'s events: its number modulo ``SENDERS``."""
    text = str(sprint_id)
    number = int(text) if text.isdigit() else zlib.crc32(text.encode())
    return number % SENDERS


def _send(session: requests.Session, url: str, sprint_id: int | str, event: dict[str, Any]) -> None:
    what = _describe(event)
    try:
        hook = sign_hook(sprint_id, event, secret=settings.WATERCOOLER_SECRET)
        if len(hook.body) >= HOOK_MAX_BYTES:
            # Descriptions are bounded so that this cannot happen (models.DESCRIPTION_MAX_LENGTH);
            # should it anyway, say so rather than let signaling's 413 look like a hiccup.
            log.error(
                "hook %s for sprint %s not sent: %d bytes, over signaling's limit of %d; other "
                "viewers see this change only when they reload",
                what,
                sprint_id,
                len(hook.body),
                HOOK_MAX_BYTES,
            )
            return
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
