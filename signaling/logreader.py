"""Reading signaling logs back: each line, human or JSON, into an :class:`Entry`. No I/O.

The inverse of ``signaling.logs``: a human line is ``<date> <time> <LEVEL> <event> key=value ...``
where a value is bare or double-quoted with the escapes ``logs.quoted`` writes; a JSON line is one
object with ``ts``, ``level`` and ``event``. Lines that are neither (a traceback from an old
version, an editor's note) are skipped, never guessed at.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

_HEAD: Final = re.compile(
    r"(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (?P<level>[A-Z]+) +(?P<event>\S+)"
)
_ESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One log event: when (UTC), its level and name, and its fields as written."""

    time: datetime
    level: str
    event: str
    fields: dict[str, Any] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        return None if value is None else str(value)

    def number(self, name: str) -> float | None:
        value = self.fields.get(name)
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None


def parse_line(line: str) -> Entry | None:
    """The event on ``line``, or None if it is not a signaling log line."""
    line = line.rstrip("\n")
    if line.startswith("{"):
        return _json_line(line)
    match = _HEAD.match(line)
    if match is None:
        return None
    stamp = datetime.strptime(match["stamp"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    fields = _fields(line[match.end() :])
    if fields is None:
        return None
    return Entry(stamp, match["level"].lower(), match["event"], fields)


def _json_line(line: str) -> Entry | None:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("event"), str):
        return None
    try:
        stamp = datetime.strptime(str(raw.pop("ts")), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return None
    level = str(raw.pop("level", "info"))
    event = str(raw.pop("event"))
    return Entry(stamp, level, event, raw)


def _fields(rest: str) -> dict[str, Any] | None:
    """``key=value`` pairs; a quoted value is unescaped, a bare one is kept as text."""
    fields: dict[str, Any] = {}
    position = 0
    size = len(rest)
    while position < size:
        if rest[position] == " ":
            position += 1
            continue
        equals = rest.find("=", position)
        if equals < 0:
            return fields if rest[position:].strip() == "" else None
        key = rest[position:equals]
        position = equals + 1
        if position < size and rest[position] == '"':
            value, position = _quoted(rest, position + 1)
            if value is None:
                return None
        else:
            end = rest.find(" ", position)
            end = size if end < 0 else end
            value = rest[position:end]
            position = end
        fields[key] = value
    return fields


def _quoted(text: str, position: int) -> tuple[str | None, int]:
    """The value of a quoted field starting after its opening quote; (None, _) if unterminated."""
    parts: list[str] = []
    size = len(text)
    while position < size:
        char = text[position]
        if char == '"':
            return "".join(parts), position + 1
        if char == "\\" and position + 1 < size:
            code = text[position + 1]
            if code in _ESCAPES:
                parts.append(_ESCAPES[code])
                position += 2
                continue
            width = {"u": 4, "U": 8}.get(code)
            if width is not None:
                digits = text[position + 2 : position + 2 + width]
                try:
                    parts.append(chr(int(digits, 16)))
                except ValueError:
                    return None, position
                position += 2 + width
                continue
        parts.append(char)
        position += 1
    return None, position
