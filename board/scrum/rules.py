"""The board's business rules as pure functions: no database, no Django request, no I/O.

Each check returns field-level errors (``{"field": ["message", ...]}``); an empty dict means the
change is allowed. ``implied_dates`` says what a status change does to ``started``/``completed``.
The service layer calls these and refuses the change with :class:`RuleViolation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
TESTING = "testing"
DONE = "done"

Errors = dict[str, list[str]]


class RuleViolation(Exception):
    """A requested change breaks a rule; ``errors`` maps fields to messages for the client."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class TaskState:
    """The rule-relevant facts of a task: where it is and its dates."""

    sprint_id: int | None
    sprint_end: date | None
    status: str
    started: date | None
    completed: date | None


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def check_sprint_end(*, old_end: date | None, new_end: date, today: date) -> Errors:
    """A sprint's end can't be *set* in the past (an ended sprint may still be renamed)."""
    if new_end < today and new_end != old_end:
        return {"end": [f"The end date can't be in the past (today is {today.isoformat()})."]}
    return {}


def check_task(*, before: TaskState | None, after: TaskState, today: date) -> Errors:
    """Errors for changing a task from ``before`` (None when creating) to ``after``."""
    errors: Errors = {}
    sprint_changes = before is None or before.sprint_id != after.sprint_id
    if before is not None and sprint_changes and before.status == DONE:
        _add(errors, "sprint", "A Done task can't change sprint.")
    if (
        sprint_changes
        and after.sprint_id is not None
        and after.sprint_end is not None
        and after.sprint_end < today
    ):
        _add(errors, "sprint", "Tasks can't be added to or moved into a sprint that has ended.")
    if after.sprint_id is None and after.status != NOT_STARTED:
        _add(errors, "status", "A backlog task (no sprint) must be Not Started.")
    if after.started is not None and after.status == NOT_STARTED:
        _add(errors, "started", "A Not Started task can't have a started date.")
    if after.completed is not None and after.status != DONE:
        _add(errors, "completed", "Only a Done task can have a completed date.")
    return errors


def implied_dates(
    *,
    old_status: str | None,
    new_status: str,
    started: date | None,
    completed: date | None,
    today: date,
) -> tuple[date | None, date | None]:
    """The (started, completed) dates a status change implies.

    In Progress and Testing set ``started`` if empty; Done sets ``completed`` (and ``started`` if
    empty); Not Started clears both; leaving Done clears ``completed``. No change of status, no
    change of dates.
    """
    if old_status == new_status:
        return started, completed
    if new_status == NOT_STARTED:
        return None, None
    if new_status == DONE:
        return started or today, completed or today
    return started or today, None
