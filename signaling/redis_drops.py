"""Messages read from Redis that this instance dropped: counted, and said in the log sparingly.

Anything on Redis may have been written by another version of this server, a broken deployment or
anyone with access to it. What ``signaling.redis_wire`` finds malformed, and a message whose
handling failed here, is dropped: counted by source and cause (``watercooler_broker_dropped_total``
in ``signaling.metrics``) and logged with its channel and the start of it, quoted, at most once per
``DROP_LOG_INTERVAL`` for each source and cause; never with a traceback. The reader reads on.

Sources: ``instance-channel`` (frames and notices for this instance), ``sprint-channel`` (a
sprint's notices), ``directory`` (a sprint's members, read when a peer joins or after
reconnecting). Causes: those of ``signaling.redis_wire.CAUSES``, and ``handler-error`` for a
message that raised while it was handled.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from typing import Final

from signaling.logs import log_event
from signaling.ratelimit import LogThrottle

DROP_LOG_INTERVAL: Final = 10.0  # seconds between two lines for one source and cause
EXCERPT_BYTES: Final = 120  # of a dropped message, in its log line
HANDLER_ERROR: Final = "handler-error"

INSTANCE_CHANNEL: Final = "instance-channel"
SPRINT_CHANNEL: Final = "sprint-channel"
DIRECTORY: Final = "directory"


def excerpt(data: bytes | str) -> str:
    """The start of ``data`` as text (bytes that are not UTF-8 as ``\\xNN``), saying how much
    was left out. The log quotes it: no character of it can break the line."""
    raw = data.encode(errors="backslashreplace") if isinstance(data, str) else data
    text = raw[:EXCERPT_BYTES].decode(errors="backslashreplace")
    if len(raw) > EXCERPT_BYTES:
        text += f"...(+{len(raw) - EXCERPT_BYTES} bytes)"
    return text


def raised_at(error: BaseException) -> str | None:
    """Where ``error`` was raised: file, line and function (a traceback's last line)."""
    frames = error.__traceback__
    if frames is None:
        return None
    while frames.tb_next is not None:
        frames = frames.tb_next
    code = frames.tb_frame.f_code
    return f"{code.co_filename.rpartition('/')[2]}:{frames.tb_lineno} {code.co_name}"


class Drops:
    """What this instance dropped of what it read from Redis: ``counts[source, cause]``."""

    def __init__(self) -> None:
        self.counts: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._logs: dict[tuple[str, str], LogThrottle] = {}

    def malformed(self, source: str, channel: str, cause: str, data: bytes | str) -> None:
        """``data``, read from ``channel`` (or a directory key), is none of what instances
        write: count it, and say so unless this source and cause were logged just now."""
        held = self._count(source, cause)
        if held is None:
            return
        log_event(
            "broker-message-dropped",
            logging.WARNING,
            source=source,
            channel=channel,
            cause=cause,
            excerpt=excerpt(data),
            dropped=self.counts[source, cause],
            unlogged=held or None,
            effect="ignored; this instance reads on (written by another version, a broken "
            "deployment or someone with access to Redis)",
        )

    def failed(self, source: str, channel: str, error: BaseException, data: bytes | str) -> None:
        """Handling ``data`` raised ``error``: count it, and say where (no traceback) unless a
        failure was logged for this source just now."""
        held = self._count(source, HANDLER_ERROR)
        if held is None:
            return
        log_event(
            "broker-message-failed",
            logging.ERROR,
            source=source,
            channel=channel,
            cause=HANDLER_ERROR,
            error=f"{type(error).__name__}: {error}",
            where=raised_at(error),
            excerpt=excerpt(data),
            dropped=self.counts[source, HANDLER_ERROR],
            unlogged=held or None,
            effect="this message is lost; this instance reads on",
        )

    def _count(self, source: str, cause: str) -> int | None:
        """Count one; the number held back since the last line if one may be written now."""
        key = (source, cause)
        self.counts[key] += 1
        throttle = self._logs.get(key)
        if throttle is None:
            throttle = self._logs[key] = LogThrottle(DROP_LOG_INTERVAL)
        return throttle.allow(time.monotonic())
