"""Reading signaling logs back: each line, human or JSON, into an :class:`Entry`. No I/O.

The inverse of ``signaling.logs``: a human line is ``<date> <time> <LEVEL> <event> key=value ...``
where a value is bare or double-quoted with the escapes ``logs.quoted`` writes; a JSON line is one
object with ``ts``, ``level`` and ``event``. Lines that are neither (a traceback from an old
version, an editor's note) are skipped, never guessed at; so is a field of the wrong shape (a list
where a peer id belongs, a time that is not a finite number), which reads as absent.

:func:`merged` interleaves several logs (one per instance) by time, so their order on the command
line never changes the story.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

_HEAD: Final = re.compile(
    r"(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (?P<level>[A-Z]+) +(?P<event>\S+)"
)
_JSON_STAMP: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")
_ESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One log event: when (UTC), its level and name, and its fields as written."""

    time: datetime
    level: str
    event: str
    fields: dict[str, Any] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """The field as text; None if absent or not text (a JSON list, object, boolean...)."""
        value = self.fields.get(name)
        if type(value) is str:
            return value
        return str(value) if type(value) is int else None

    def number(self, name: str) -> float | None:
        """The field as a finite number of at least 0 (durations, counts); else None."""
        value = self.fields.get(name)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) and number >= 0 else None


def parse_line(line: str) -> Entry | None:
    """The event on ``line``, or None if it is not a signaling log line."""
    line = line.rstrip("\r\n")
    if line.startswith("{"):
        return _json_line(line)
    match = _HEAD.match(line)
    if match is None:
        return None
    try:
        stamp = datetime.fromisoformat(match["stamp"]).replace(tzinfo=UTC)
    except ValueError:  # a date that does not exist, such as month 13
        return None
    fields = _fields(line[match.end() :])
    if fields is None:
        return None
    return Entry(stamp, match["level"].lower(), match["event"], fields)


def merged(logs: Sequence[Iterable[str]]) -> Iterator[tuple[int, Entry]]:
    """The entries of several logs, each read in its own order, interleaved by time: (index of
    the log, entry). Lines of the same moment go in an order fixed by their text, not by the
    order of ``logs``."""
    if len(logs) == 1:
        for entry in entries(logs[0]):
            yield 0, entry
        return

    def keyed(index: int, lines: Iterable[str]) -> Iterator[tuple[datetime, str, int, Entry]]:
        for line in lines:
            entry = parse_line(line)
            if entry is not None:
                yield entry.time, line, index, entry

    for _time, _line, index, entry in heapq.merge(*(keyed(i, log) for i, log in enumerate(logs))):
        yield index, entry


def entries(lines: Iterable[str]) -> Iterator[Entry]:
    """The log entries among ``lines``."""
    for line in lines:
        entry = parse_line(line)
        if entry is not None:
            yield entry


def _json_line(line: str) -> Entry | None:
    try:
        raw = json.loads(line)
    except ValueError:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("event"), str):
        return None
    stamp = raw.pop("ts", None)
    if not isinstance(stamp, str) or _JSON_STAMP.fullmatch(stamp) is None:
        return None
    try:
        time = datetime.fromisoformat(stamp[:-1]).replace(tzinfo=UTC)
    except ValueError:
        return None
    level = raw.pop("level", "info")
    event = raw.pop("event")
    return Entry(time, level if isinstance(level, str) else "info", event, raw)


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
