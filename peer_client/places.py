"""Where a card is: :class:`Place` and :class:`Pointer`, and how a place maps to the board's API
and to words (docs/protocol.md 2.2, 2.3.1). No I/O.

``backlog`` is the tasks with no sprint (the API's ``sprint: null``); the other columns are the
sprint's statuses. :func:`place_of_task` reads where a task sits from the API's task,
:func:`move_request` writes the fields of the move request, :func:`column_named` reads a column as
a person types it, and ``str(place)`` writes one as the page titles it.

What makes a place valid in a message is :mod:`peer_client.fields`' rule, not this module's. This
module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from peer_client.fields import COLUMNS, Column

COLUMN_TITLES: Final[dict[str, str]] = {
    "backlog": "Backlog",
    "not_started": "Not started",
    "in_progress": "In progress",
    "testing": "Testing",
    "done": "Done",
}


def column_named(text: str) -> Column | None:
    """The column a person means by ``text`` (``"In progress"``, ``in-progress``, ...), or None."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    for column in COLUMNS:
        if key == column:
            return column
    return None


@dataclass(frozen=True, slots=True)
class Place:
    """A place on the board: a column and the 0-based index in it."""

    column: Column
    index: int

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "index": self.index}

    def __str__(self) -> str:
        return f"{COLUMN_TITLES[self.column]} {self.index}"


@dataclass(frozen=True, slots=True)
class Pointer:
    """Where a dragging peer's pointer is, in board terms: a column and fractions of its width
    (``x``) and height (``y``), so windows of different sizes agree on the spot."""

    column: Column
    x: float
    y: float

    def to_json(self) -> dict[str, Any]:
        return {"column": self.column, "x": self.x, "y": self.y}


def place_of_task(task: dict[str, Any], sprint: int) -> Place | None:
    """Where a task (as the API shows it) sits on the board of ``sprint``; None if not on it."""
    if task.get("sprint") is None:
        return Place("backlog", _int_or_zero(task.get("position")))
    if task.get("sprint") != sprint:
        return None
    column = column_named(str(task.get("status", "")))
    if column is None or column == "backlog":
        return None
    return Place(column, _int_or_zero(task.get("position")))


def move_request(place: Place, sprint: int) -> dict[str, Any]:
    """The fields of ``POST /api/tasks/{id}/move/`` for ``place`` (without ``version``)."""
    if place.column == "backlog":
        return {"sprint": None, "status": "not_started", "position": place.index}
    return {"sprint": sprint, "status": place.column, "position": place.index}


def _int_or_zero(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
