"""The field rules of the data-channel protocol (docs/protocol.md 2.7). No I/O.

Integers, ids, versions, places, short texts, dates and the API's task: each check returns the
value in its normalised form or raises :class:`FieldError`, whose message names the field. These
rules stand between another peer's message and our state, so they accept nothing a rule does not
allow; ``web/static/watercooler/fields.js`` keeps the same rules, and ``tests/protocol_fixtures/``
holds the cases both must agree on.

JSON is read by Python and by JavaScript differently, and the rules are written so both reach the
same verdict: an integer may arrive as ``3.0`` (JavaScript has no separate integer type) and is
taken as 3; integers end at 2^53 - 1, the last one a JavaScript number holds exactly; string
lengths count code points, as the board's ``max_length`` does.

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any, Final, Literal

Column = Literal["backlog", "not_started", "in_progress", "testing", "done"]
COLUMNS: Final[tuple[Column, ...]] = ("backlog", "not_started", "in_progress", "testing", "done")
STATUSES: Final = COLUMNS[1:]
MAX_SAFE_INTEGER: Final = 2**53 - 1
MAX_ID_CHARS: Final = 64
MAX_AGENT_CHARS: Final = 40
MAX_SNAPSHOT_DRAGS: Final = 20
MAX_TASK_NAME_CHARS: Final = 100
MAX_ASSIGNEE_NAME_CHARS: Final = 150

_UNSHOWABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
"""What a short text shown to people may not hold: control characters (C0, DEL, C1), the bidi
controls that reorder what follows (Unicode's Bidi_Control) and lone surrogates (``json`` joins a
pair into one code point, so only a lone half matches)."""
_DATE = re.compile("([0-9]{4})-([0-9]{2})-([0-9]{2})")


class FieldError(ValueError):
    """A field that breaks its rule; ``str()`` names the field and the rule."""


def integer_from(value: object, path: str, minimum: int) -> int:
    """An integer from ``minimum`` to 2^53 - 1 (``3.0`` is the integer 3)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not minimum <= value <= MAX_SAFE_INTEGER
    ):
        raise FieldError(f"{path} must be an integer from {minimum} to 2^53 - 1")
    return value


def positive_id(value: object, path: str) -> int:
    """A task id, version, sprint or user id: 1 to 2^53 - 1."""
    return integer_from(value, path, 1)


def finite_number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{path} must be a finite number")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any double: JavaScript reads it as Infinity
        raise FieldError(f"{path} must be a finite number") from None
    if not math.isfinite(number):
        raise FieldError(f"{path} must be a finite number")
    return number


def text(value: object, path: str, minimum: int, maximum: int | None) -> str:
    """A string of ``minimum`` to ``maximum`` code points (``maximum`` None: any length)."""
    if not isinstance(value, str):
        raise FieldError(f"{path} must be a string")
    if len(value) < minimum or (maximum is not None and len(value) > maximum):
        rule = (
            f"must have at least {minimum} characters"
            if maximum is None
            else f"must have {minimum} to {maximum} characters"
        )
        raise FieldError(f"{path} {rule}")
    return value


def agent(value: object, path: str) -> str:
    """``hello.agent``: 1-40 characters, no control or bidi characters, no lone surrogates."""
    name = text(value, path, 1, MAX_AGENT_CHARS)
    if _UNSHOWABLE.search(name):
        raise FieldError(f"{path} must not contain control or bidi characters or lone surrogates")
    return name


def column(value: object, path: str) -> Column:
    for name in COLUMNS:
        if value == name and isinstance(value, str):
            return name
    raise FieldError(f"{path} must be one of {', '.join(COLUMNS)}")


def place(value: object, path: str) -> tuple[Column, int]:
    """``{"column", "index"}`` as ``(column, index)``."""
    if not isinstance(value, dict):
        raise FieldError(f'{path} must be a place {{"column", "index"}}')
    return column(value.get("column"), f"{path}.column"), integer_from(
        value.get("index"), f"{path}.index", 0
    )


def fraction(value: object, path: str) -> float:
    """A fraction: a finite number from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{path} must be a number from 0 to 1")
    try:
        number = float(value)
    except OverflowError:
        raise FieldError(f"{path} must be a number from 0 to 1") from None
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise FieldError(f"{path} must be a number from 0 to 1")
    return number + 0.0  # -0.0 is 0


def pointer(value: object, path: str) -> tuple[Column, float, float]:
    """``{"column", "x", "y"}``: the column under a pointer and fractions across and down it."""
    if not isinstance(value, dict):
        raise FieldError(f'{path} must be a pointer {{"column", "x", "y"}}')
    return (
        column(value.get("column"), f"{path}.column"),
        fraction(value.get("x"), f"{path}.x"),
        fraction(value.get("y"), f"{path}.y"),
    )


def date_or_none(value: object, path: str) -> str | None:
    """None or a calendar date ``YYYY-MM-DD`` (year 1 to 9999)."""
    if value is None:
        return None
    match = _DATE.fullmatch(value) if isinstance(value, str) else None
    try:
        if match is None:
            raise ValueError(value)
        datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise FieldError(f"{path} must be null or a date YYYY-MM-DD") from None
    return str(value)


def _id_or_none(value: object, path: str) -> int | None:
    return None if value is None else positive_id(value, path)


def _text_or_none(value: object, path: str, maximum: int | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(f"{path} must be null or a string")
    return text(value, path, 0, maximum)


_OPTIONAL_TASK_FIELDS: Final = (
    ("description", lambda value, path: text(value, path, 0, None)),
    ("status_display", lambda value, path: text(value, path, 0, None)),
    ("assignee", _id_or_none),
    ("assignee_name", lambda value, path: _text_or_none(value, path, MAX_ASSIGNEE_NAME_CHARS)),
    ("started", date_or_none),
    ("due", date_or_none),
    ("completed", date_or_none),
)


def task(value: object, path: str = "task") -> dict[str, Any]:
    """A task as the API shows it, normalised: only the fields section 2.7 lists (``links`` is
    checked and not kept). Used for every task a client keeps (REST answers, board events) as well
    as for what peers send, so a bad record never reaches the state."""
    if not isinstance(value, dict):
        raise FieldError(f"{path} must be the task as the API shows it (an object)")
    sprint = value.get("sprint", ...)
    status = value.get("status")
    if not (isinstance(status, str) and status in STATUSES):
        status = None
    out: dict[str, Any] = {
        "id": positive_id(value.get("id"), f"{path}.id"),
        "version": positive_id(value.get("version"), f"{path}.version"),
        "name": text(value.get("name"), f"{path}.name", 0, MAX_TASK_NAME_CHARS),
        "sprint": None if sprint is None else positive_id(sprint, f"{path}.sprint"),
    }
    if status is None:
        raise FieldError(f"{path}.status must be one of {', '.join(STATUSES)}")
    out["status"] = status
    out["position"] = integer_from(value.get("position"), f"{path}.position", 0)
    for name, check in _OPTIONAL_TASK_FIELDS:
        if name in value:
            out[name] = check(value[name], f"{path}.{name}")
    if "links" in value and not isinstance(value["links"], dict):
        raise FieldError(f"{path}.links must be an object")
    return out


def checked_task(value: object) -> tuple[dict[str, Any] | None, str]:
    """``(task, "")`` for a good task, ``(None, fault)`` for a bad one (the caller logs it)."""
    try:
        return task(value), ""
    except FieldError as exc:
        return None, str(exc)
