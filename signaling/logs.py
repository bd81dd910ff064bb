"""One log line per event, human-readable by default, JSON lines on request.

Call sites say *what happened* and attach fields: ``log_event("join", sprint=..., peer=...)``. The
formatter decides the shape:

    2026-11-22 10:15:02.123 INFO  join sprint=7 peer=Qx3... user=12 name="Ann Lee" addr=127.0.0.1
    {"ts":"2026-11-22T10:15:02.123Z","level":"info","event":"join","sprint":"7",...}

Never pass a ticket, a secret or a whole SDP as a field at INFO.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Final

LOGGER_NAME: Final = "watercooler.signaling"
logger = logging.getLogger(LOGGER_NAME)


def log_event(event: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Log one event with its fields (None-valued fields are left out)."""
    if logger.isEnabledFor(level):
        clean = {key: value for key, value in fields.items() if value is not None}
        logger.log(level, event, extra={"event": event, "fields": clean})


def _timestamp(record: logging.LogRecord, sep: str, zone: str) -> str:
    base = time.strftime(f"%Y-%m-%d{sep}%H:%M:%S", time.gmtime(record.created))
    return f"{base}.{int(record.msecs):03d}{zone}"


def _human_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if text == "" or any(ch in text for ch in ' "=\n'):
        return json.dumps(text, ensure_ascii=False)
    return text


class HumanFormatter(logging.Formatter):
    """``<UTC time> LEVEL event key=value ...``, quoting values with spaces."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        event = getattr(record, "event", None) or record.getMessage()
        parts = [_timestamp(record, " ", ""), f"{record.levelname:<5}", event]
        parts += [f"{key}={_human_value(value)}" for key, value in fields.items()]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``event``, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        entry: dict[str, Any] = {
            "ts": _timestamp(record, "T", "Z"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or record.getMessage(),
            **fields,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str)


def configure_logging(log_format: str, debug: bool) -> None:
    """Send signaling's events (and aiohttp's warnings) to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else HumanFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
