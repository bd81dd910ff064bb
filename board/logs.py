"""The board's log lines: one per record on stderr, in the same two formats as signaling's logs.

    2026-11-22 10:15:02.123 ERROR Internal Server Error: /api/x/ logger=django.request exception="…"
    {"ts":"2026-11-22T10:15:02.123Z","level":"error","event":"Internal Server Error: /api/x/",
     "logger":"django.request","exception":"Traceback (most recent call last):\\n…"}  (one line)

``LOG_FORMAT`` (``human`` or ``json``) chooses, as ``--log-format`` does for signaling, so one log
pipeline reads both processes. The board and signaling share no code (only the secret): this module
writes the same shape on its own, and a test holds the two to the same lines. A record's message is
the event; its logger and, when it has one, its traceback are fields. Times are UTC.

Never log a ticket, a token, a password or a secret.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}
MAX_FIELD_CHARS = 300
# A value made only of these is written bare; any other character makes it quoted (as signaling).
_NEEDS_QUOTES = re.compile(r"[^\w!#$%&'()*+,\-./:;<>?@\[\]^`{|}~]")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def bounded(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}...(+{len(text) - limit} chars)"


def quoted(text: str) -> str:
    """``text`` in double quotes, every character that could break the line escaped."""
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


def human_value(value: Any, key: str = "") -> str:
    """A field's value in a human line: bare when it can be, else quoted and escaped; a
    traceback (``exception``) whole, other text cut at ``MAX_FIELD_CHARS``."""
    if isinstance(value, str):
        if key == "exception":
            return quoted(value)
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


def format_line(
    event: str, level: int, fields: dict[str, Any], when: float, *, as_json: bool
) -> str:
    """One log line (without its newline) for ``event`` with ``fields`` at ``when`` (epoch s)."""
    milli = int(when * 1000)
    second, millis = divmod(milli, 1000)
    stamp = time.gmtime(second)
    level_name = LEVEL_NAMES.get(level, str(level))
    if as_json:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", stamp) + f".{millis:03d}Z",
            "level": level_name.lower(),
            "event": event,
        }
        for key, value in fields.items():
            entry[key] = bounded(value) if type(value) is str and key != "exception" else value
        return json.dumps(entry, separators=(",", ":"), ensure_ascii=True, default=str)
    parts = [f"{time.strftime('%Y-%m-%d %H:%M:%S', stamp)}.{millis:03d} {level_name:<5} {event}"]
    parts.extend(f" {key}={human_value(value, key)}" for key, value in fields.items())
    return "".join(parts)


class LineFormatter(logging.Formatter):
    """A ``logging`` formatter writing :func:`format_line` lines (settings.LOGGING uses it)."""

    def __init__(self, json: bool = False) -> None:
        super().__init__()
        self.as_json = json

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {"logger": record.name}
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exception"] = record.exc_text
        return format_line(
            record.getMessage(), record.levelno, fields, record.created, as_json=self.as_json
        )
