"""One log line per event, human-readable by default, JSON lines on request.

Call sites say *what happened* and attach fields: ``log_event("join", sprint=..., peer=...)``. The
chosen format decides the shape:

    2026-11-22 10:15:02.123 INFO  join sprint=7 peer=Qx3... user=12 name="Ann Lee" addr=127.0.0.1
    {"ts":"2026-11-22T10:15:02.123Z","level":"info","event":"join","sprint":"7",...}

Every relayed signal is an event, so this sits on the hot path. Going through ``logging.Logger`` for
each (record object, handler lock, formatter, a write and a flush per line) is more work than the
relay itself (docs/benchmarks.md, History, has the profiles). Events are therefore formatted here
directly and written to stderr in one write per event-loop turn, and at most one per 50 ms while the
log is busy. Other libraries'
records (aiohttp's errors) still go through ``logging`` and come out in the same format, in order.

Fields often carry what clients sent (names, origins, sprint ids, error details). In the human
format a value is written bare only if it is made of letters, digits and punctuation that cannot
be mistaken for the line's structure; anything else is quoted, with quotes, backslashes and every
character that is not printable (CR, LF, ANSI escapes, other controls, line separators, bidi
marks) escaped, so one event always stays one line. JSON lines are pure ASCII. Every string value
is cut to ``MAX_FIELD_CHARS``.

Never pass a ticket, a secret or a whole SDP as a field at INFO.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TextIO

LOGGER_NAME: Final = "watercooler.signaling"
logger = logging.getLogger(LOGGER_NAME)

# A busy log is written at most this often (see EventLog._end_turn), in any case when this many
# lines are waiting. Stopping the server writes what is pending; a killed one loses at most this.
WRITE_INTERVAL_SECONDS: Final = 0.05
MAX_PENDING_LINES: Final = 2000

_LEVEL_NAMES: Final = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
}


_MILLIS: Final = tuple(f".{milli:03d}" for milli in range(1000))  # ".000" to ".999"


class Clock:
    """UTC timestamps: the date and time formatted once per second, the milliseconds looked up.

    :meth:`human` (every ``signal`` line: one per relayed message) also reuses its stamp within a
    millisecond, which many lines share under load. ``now`` is the time source (seconds since the
    epoch; tests give their own).
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self._second = -1
        self._human_second = ""
        self._iso_second = ""
        self._human_milli = -1
        self._human = ""

    def _new_second(self, second: int) -> None:
        self._second = second
        self._human_second = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        self._iso_second = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))

    def stamps(self, now: float) -> tuple[str, str]:
        """The human and the ISO 8601 stamp of ``now``."""
        milli = int(now * 1000)
        second = milli // 1000
        if second != self._second:
            self._new_second(second)
        millis = _MILLIS[milli - second * 1000]
        return self._human_second + millis, self._iso_second + millis + "Z"

    def human(self) -> str:
        """The human stamp of now."""
        milli = int(self.now() * 1000)
        if milli != self._human_milli:
            second = milli // 1000
            if second != self._second:
                self._new_second(second)
            self._human = self._human_second + _MILLIS[milli - second * 1000]
            self._human_milli = milli
        return self._human


MAX_FIELD_CHARS: Final = 300

# A value made only of these is written bare; any other character makes it quoted.
_NEEDS_QUOTES: Final = re.compile(r"[^\w!#$%&'()*+,\-./:;<>?@\[\]^`{|}~]")
_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def bounded(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...(+{len(text) - limit} chars)"


def quoted(text: str) -> str:
    """``text`` in double quotes, every character that could break the line escaped."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # a name with a space, say: nothing to escape
    parts = ['"']
    for char in text:
        escape = _ESCAPES.get(char)
        if escape is not None:
            parts.append(escape)
        elif char.isprintable():
            parts.append(char)
        else:
            code = ord(char)
            parts.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    parts.append('"')
    return "".join(parts)


def _human_value(value: Any) -> str:
    if isinstance(value, str):
        value = bounded(value)
        if value and _NEEDS_QUOTES.search(value) is None:
            return value
        return quoted(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    return quoted(
        bounded(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str))
    )


class EventLog:
    """Formats events and writes them, coalescing the writes of one event-loop turn."""

    def __init__(self) -> None:
        self.level = logging.WARNING  # quiet until configure_logging() says otherwise
        self.json = False
        self.stream: TextIO = sys.stderr
        self.clock = Clock()
        self._pending: list[str] = []
        self._flush_scheduled = False
        self._write_timer: asyncio.TimerHandle | None = None
        self._last_write = -WRITE_INTERVAL_SECONDS
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0

    def line(self, event: str, level: int, fields: dict[str, Any], now: float) -> str:
        human_ts, iso_ts = self.clock.stamps(now)
        level_name = _LEVEL_NAMES.get(level, str(level))
        if self.json:
            entry: dict[str, Any] = {"ts": iso_ts, "level": level_name.lower(), "event": event}
            for key, value in fields.items():
                entry[key] = bounded(value) if type(value) is str and key != "exception" else value
            return json.dumps(entry, separators=(",", ":"), ensure_ascii=True, default=str)
        parts = [f"{human_ts} {level_name:<5} {event}"]
        needs_quotes = _NEEDS_QUOTES.search
        for key, value in fields.items():
            # The common cases inline (peer ids, counts): this runs once per relayed signal.
            if type(value) is int or (
                type(value) is str
                and value
                and len(value) <= MAX_FIELD_CHARS
                and needs_quotes(value) is None
            ):
                parts.append(f" {key}={value}")
            elif key == "exception" and type(value) is str:
                parts.append(f" {key}={quoted(value)}")  # a traceback: whole, on one line
            else:
                parts.append(f" {key}={_human_value(value)}")
        return "".join(parts)

    def emit(self, event: str, level: int, fields: dict[str, Any]) -> None:
        self.append(self.line(event, level, fields, self.clock.now()) + "\n")

    def append(self, line: str) -> None:
        """Queue one formatted line (with its newline); written at the end of this loop turn, or
        while lines keep coming, with the others of the next ``WRITE_INTERVAL_SECONDS``.

        While a write is already timed, the line simply waits for it: no end-of-turn callback is
        scheduled. At low rates each relayed message is a loop turn of its own, and that callback
        would be one more call for every message (docs/benchmarks.md, History).
        """
        pending = self._pending
        pending.append(line)
        if self._flush_scheduled or (
            self._write_timer is not None and len(pending) < MAX_PENDING_LINES
        ):
            return
        # The loop is remembered: asyncio.get_running_loop() costs a getpid() system call each
        # time (its fork check), a system call per logged line otherwise.
        loop = self._loop
        if loop is None or not loop.is_running() or threading.get_ident() != self._thread:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.flush()
                return
            self._loop, self._thread = loop, threading.get_ident()
        self._flush_scheduled = True
        loop.call_soon(self._end_turn, loop)

    def _end_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """After a turn that logged: write now if the log was quiet, else within the interval.

        A write is a system call and a trip through the text stream; under a steady stream of
        signals (a few per loop turn) one per turn would be a system call for nearly every message,
        so a busy log is written at most every ``WRITE_INTERVAL_SECONDS`` (and at once when many
        lines are waiting). A line after a quiet spell is still written at the end of its turn.
        """
        self._flush_scheduled = False
        if self._write_timer is not None and len(self._pending) < MAX_PENDING_LINES:
            return  # the timer writes them
        since = time.monotonic() - self._last_write
        if since >= WRITE_INTERVAL_SECONDS or len(self._pending) >= MAX_PENDING_LINES:
            self.flush()
        else:
            self._write_timer = loop.call_later(WRITE_INTERVAL_SECONDS - since, self.flush)

    def flush(self) -> None:
        """Write every pending line now."""
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        self._last_write = time.monotonic()
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # stderr closed: nothing sensible left to do with a log line


events = EventLog()


def log_event(event: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Log one event with its fields (None-valued fields are left out)."""
    if level >= events.level:
        events.emit(event, level, {k: v for k, v in fields.items() if v is not None})


MAX_REMEMBERED_SPRINTS: Final = 10_000


class SprintTexts:
    """Sprint ids as ``signal`` lines write them (quoted when they must be), so that a line does
    not check its sprint's characters per relayed message.

    One per server (``SignalingService``): the ids are what clients' tickets name, so they are
    kept with the server that admitted them, not in the module. At most ``limit`` are
    remembered; the rest are formatted each time.
    """

    __slots__ = ("limit", "texts")

    def __init__(self, limit: int = MAX_REMEMBERED_SPRINTS) -> None:
        self.limit = limit
        self.texts: dict[str, str] = {}

    def add(self, sprint: str) -> str:
        """``sprint`` as a line writes it, remembered while there is room."""
        text = _human_value(sprint)
        if len(self.texts) < self.limit:
            self.texts[sprint] = text
        return text


def log_signal(
    sprint: str,
    sender: str,
    to: str,
    kind: str,
    size: int,
    candidates: str | None,
    sprints: SprintTexts | None = None,
) -> None:
    """The ``signal`` event: the same line as ``log_event("signal", ...)``, built directly.

    It is the one event logged for every relayed message, so the human line skips the generic
    field loop (a check of every field's type and characters, per message) and reuses the
    clock's stamp within a millisecond. Peer ids and the kind are made by the server and never need
    quoting; the sprint and candidate types come from clients.
    """
    log = events
    if log.level > logging.INFO:
        return
    if log.json:
        log.emit(
            "signal",
            logging.INFO,
            {"sprint": sprint, "from": sender, "to": to, "kind": kind, "bytes": size}
            | ({"candidates": candidates} if candidates else {}),
        )
        return
    stamp = log.clock.human()
    if sprints is None:
        sprint_text = _human_value(sprint)
    else:
        sprint_text = sprints.texts.get(sprint) or sprints.add(sprint)
    tail = _CANDIDATE_TAILS.get(candidates)
    if tail is None:
        tail = f" candidates={_human_value(candidates)}"
    log.append(
        f"{stamp} INFO  signal sprint={sprint_text} from={sender} to={to} kind={kind} "
        f"bytes={size}{tail}\n"
    )


# The endings of the common signal lines, written once: no candidates, or one of RFC 8445's types.
_CANDIDATE_TAILS: Final[dict[str | None, str]] = {
    None: "",
    "": "",
    **{kind: f" candidates={kind}" for kind in ("host", "srflx", "prflx", "relay")},
}


class _RecordFormatter(logging.Formatter):
    """Other libraries' log records, in the events' format (event = the record's message)."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"logger": record.name}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return events.line(record.getMessage(), record.levelno, fields, record.created)


class _InOrderHandler(logging.StreamHandler):
    """Writes a library's record after the events logged before it (they may be pending)."""

    def emit(self, record: logging.LogRecord) -> None:
        events.flush()
        super().emit(record)


class _BadRequestFilter(logging.Filter):
    """aiohttp logs each request it cannot parse as an ERROR with a traceback, client bytes and
    all. Such a request is the client's fault, not ours: it becomes one ``refused
    reason=bad-request`` event naming the fault, like any other refusal."""

    def filter(self, record: logging.LogRecord) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        address = record.args[0] if isinstance(record.args, tuple) and record.args else None
        log_event(
            "refused",
            logging.INFO,
            reason="bad-request",
            addr=str(address) if address is not None else None,
            status=exc.code,
            detail=bounded(str(exc.message or exc), 200),
        )
        return False


def configure_logging(log_format: str, debug: bool) -> None:
    """Send signaling's events (and other libraries' warnings) to stderr in the chosen format."""
    events.json = log_format == "json"
    events.level = logging.DEBUG if debug else logging.INFO
    events.stream = sys.stderr
    handler = _InOrderHandler(sys.stderr)
    handler.setFormatter(_RecordFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    aiohttp_server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _BadRequestFilter) for f in aiohttp_server.filters):
        aiohttp_server.addFilter(_BadRequestFilter())


if __name__ == "__main__":  # python -m signaling.logs FILE: the log reader
    from signaling.logtool import main

    sys.exit(main())
