"""The events of a signaling log (human or JSON lines, ``signaling/logs.py``), for tests that read
what the server logged: ``events(text, "link")`` is every ``link`` line's fields, in order."""

from __future__ import annotations

import json
import re
from typing import Any

# "2026-11-22 10:15:05.061 INFO  link sprint=7 a=Qx3 ... by=b"
_HUMAN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} +[A-Z]+ +(\S+)(.*)$")
_FIELD = re.compile(r' ([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)')


def _value(text: str) -> Any:
    if text.startswith('"'):
        return json.loads(re.sub(r"\\U([0-9a-f]{8})", lambda m: chr(int(m[1], 16)), text))
    if text in ("null", "true", "false"):
        return json.loads(text)
    return text


def parse(line: str) -> dict[str, Any] | None:
    """One line's ``event`` and fields (values as written: numbers stay text in the human
    format), or None for a line that is no event."""
    line = line.rstrip("\n")
    if line.startswith("{"):
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        return entry if isinstance(entry, dict) and "event" in entry else None
    match = _HUMAN.match(line)
    if match is None:
        return None
    fields = {key: _value(value) for key, value in _FIELD.findall(match[2])}
    return {"event": match[1], **fields}


def events(text: str, name: str) -> list[dict[str, Any]]:
    """Every ``name`` event of the log ``text``, in order."""
    found = [parse(line) for line in text.splitlines()]
    return [entry for entry in found if entry is not None and entry["event"] == name]
