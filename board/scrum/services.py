"""Every write to sprints and tasks: the API, the pages, the admin and the seed command call these.

Each function is one transaction (``transactions.run_in_transaction``). Writes that touch a column
lock it first, always in the same order: sprint rows by id, then the backlog's lock row
(``BacklogLock``), then the task. So two requests on the same column queue up instead of
interleaving, and requests on different columns never deadlock. A task's column is read before it
is locked; if the task moved in between, the transaction starts over from nothing rather than lock
another column out of order. On SQLite every transaction already takes the write lock at ``BEGIN
IMMEDIATE`` (see settings).

Positions stay 0..n-1 in every column touched; versions count each task's own saves (see models).
Board events are produced by the model signals in ``events.py`` once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.utils import timezone

from board.scrum.models import BacklogLock, Sprint, Task
from board.scrum.rules import (
    Errors,
    RuleViolation,
    TaskState,
    check_sprint_end,
    check_task,
    implied_dates,
)
from board.scrum.transactions import StartOver, run_in_transaction

TASK_FIELDS = frozenset(
    {
        "name",
        "description",
        "sprint",
        "status",
        "position",
        "assignee",
        "started",
        "due",
        "completed",
    }
)
SPRINT_FIELDS = frozenset({"name", "description", "end"})

Column = tuple[int | None, str]

__all__ = [
    "SprintNotEmpty",
    "VersionConflict",
    "check_sprint_end",
    "create_sprint",
    "create_task",
    "delete_sprint",
    "delete_task",
    "move_task",
    "preview_task_errors",
    "today",
    "update_sprint",
    "update_task",
]


class VersionConflict(Exception):
    """The client's version is stale; ``task`` is the current one, to show the client."""

    def __init__(self, task: Task, expected: int) -> None:
        super().__init__(f"task {task.pk} is at version {task.version}, not {expected}")
        self.task = task
        self.expected = expected


class SprintNotEmpty(Exception):
    """A sprint that still has tasks can't be deleted (they would have nowhere valid to go)."""

    def __init__(self, sprint: Sprint, task_count: int) -> None:
        super().__init__(
            f"The sprint still has {task_count} task(s); move or delete them before deleting it."
        )
        self.sprint = sprint
        self.task_count = task_count


def today() -> date:
    return timezone.localdate()


# --- locking and positions ------------------------------------------------------------------


def _lock_columns(sprint_ids: Iterable[int | None]) -> None:
    """Lock the columns of these sprints (``None`` = the backlog), in the one global order."""
    wanted = set(sprint_ids)
    ids = sorted(pk for pk in wanted if pk is not None)
    if ids:
        list(Sprint.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))
    if None in wanted:
        _lock_backlog()


def _lock_backlog() -> None:
    """Lock the backlog's row, creating it first if it is missing (a new or flushed database)."""
    row = BacklogLock.objects.select_for_update().filter(pk=BacklogLock.ROW)
    if not list(row.values("pk")):
        BacklogLock.objects.bulk_create([BacklogLock(pk=BacklogLock.ROW)], ignore_conflicts=True)
        list(row.values("pk"))


def _locked_task(task_id: int, also_lock: Iterable[int | None] = ()) -> Task:
    """The task, locked together with its column and the columns of ``also_lock``.

    The task's sprint is read before it is locked; should a concurrent move change it in between,
    the transaction starts over (``StartOver``): locking the new column now, after the task, would
    take locks out of the global order.
    """
    current = Task.objects.filter(pk=task_id).values_list("sprint_id", flat=True)
    if not current:
        raise Task.DoesNotExist(f"No task {task_id}.")
    locked = {current[0], *also_lock}
    _lock_columns(locked)
    task = Task.objects.select_for_update().get(pk=task_id)
    if task.sprint_id not in locked:
        raise StartOver(f"task {task_id} left its column while it was being locked")
    return task


def _column_tasks(column: Column, *, excluding: Task | None = None) -> list[Task]:
    sprint_id, status = column
    tasks = Task.objects.filter(sprint_id=sprint_id, status=status).order_by("position", "pk")
    if excluding is not None and excluding.pk is not None:
        tasks = tasks.exclude(pk=excluding.pk)
    return list(tasks)


def _renumber(ordered: list[Task], *, skip: Task | None = None) -> None:
    """Store positions 0..n-1 for ``ordered``; ``skip`` (the task being saved) is its caller's.

    A bulk update, not ``save()``: a sibling shifting by one is not a change of that task.
    """
    changed = []
    for index, task in enumerate(ordered):
        if task.position != index:
            task.position = index
            if task is not skip:
                changed.append(task)
    if changed:
        Task.objects.bulk_update(changed, ["position"])


def _place(task: Task, *, position: int | None, source: Column | None) -> None:
    """Insert ``task`` at ``position`` of its column (the end when None or too large).

    ``source`` is the column it leaves (None when it is new); that column's gap is closed.
    """
    target: Column = (task.sprint_id, task.status)
    siblings = _column_tasks(target, excluding=task)
    index = len(siblings) if position is None else max(0, min(position, len(siblings)))
    siblings.insert(index, task)
    _renumber(siblings, skip=task)
    if source is not None and source != target:
        _renumber(_column_tasks(source, excluding=task))


def _state(task: Task) -> TaskState:
    return TaskState(
        sprint_id=task.sprint_id,
        sprint_end=task.sprint.end if task.sprint is not None else None,
        status=task.status,
        started=task.started,
        completed=task.completed,
    )


def _check_fields(changes: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"not a changeable field: {sorted(unknown)}")


# --- tasks ----------------------------------------------------------------------------------


def create_task(fields: Mapping[str, Any], *, on: date | None = None) -> Task:
    """Create a task (at ``position`` of its column, default the end), enforcing the rules."""
    _check_fields(fields, TASK_FIELDS)
    day = on or today()

    def write() -> Task:
        values = {k: v for k, v in fields.items() if k != "position"}
        task = Task(**values)
        task.started, task.completed = _new_task_dates(task, fields, day)
        _lock_columns([task.sprint_id])
        errors = check_task(before=None, after=_state(task), today=day)
        if errors:
            raise RuleViolation(errors)
        _place(task, position=fields.get("position"), source=None)
        task.save()
        return task

    return run_in_transaction(write, what="create task")


def _new_task_dates(
    task: Task, fields: Mapping[str, Any], day: date
) -> tuple[date | None, date | None]:
    """A new task's dates: the ones given, else those its status implies."""
    started, completed = implied_dates(
        old_status=None, new_status=task.status, started=None, completed=None, today=day
    )
    return fields.get("started", started), fields.get("completed", completed)


def update_task(
    task_id: int,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    on: date | None = None,
) -> Task:
    """Change a task: any of its fields, including a move (sprint, status, position).

    A status change sets or clears ``started``/``completed`` as it implies, unless ``changes`` gives
    them. Raises :class:`VersionConflict` when ``expected_version`` is stale, :class:`RuleViolation`
    when the result breaks a rule, ``Task.DoesNotExist`` when there is no such task.
    """
    _check_fields(changes, TASK_FIELDS)
    day = on or today()
    target_sprint: set[int | None] = set()
    if "sprint" in changes:
        target_sprint.add(changes["sprint"].pk if changes["sprint"] is not None else None)

    def write() -> Task:
        task = _locked_task(task_id, target_sprint)
        if expected_version is not None and task.version != expected_version:
            raise VersionConflict(task, expected_version)
        source: Column = (task.sprint_id, task.status)
        before = _apply(task, changes, day)
        errors = check_task(before=before, after=_state(task), today=day)
        if errors:
            raise RuleViolation(errors)
        if (task.sprint_id, task.status) != source or "position" in changes:
            _place(task, position=changes.get("position"), source=source)
        task.save()
        return task

    return run_in_transaction(write, what=f"update task {task_id}")


def _apply(task: Task, changes: Mapping[str, Any], day: date) -> TaskState:
    """Apply ``changes`` to the unsaved ``task``, with the dates a status change implies.

    Returns the task's state from before, for the rules.
    """
    before = _state(task)
    for field in ("name", "description", "assignee", "due", "sprint", "status"):
        if field in changes:
            setattr(task, field, changes[field])
    started, completed = implied_dates(
        old_status=before.status,
        new_status=task.status,
        started=task.started,
        completed=task.completed,
        today=day,
    )
    task.started = changes.get("started", started)
    task.completed = changes.get("completed", completed)
    return before


def preview_task_errors(
    task: Task | None, changes: Mapping[str, Any], *, on: date | None = None
) -> Errors:
    """The rule errors ``changes`` would meet, without saving or locking (for forms).

    ``task`` None means a new task. The service functions check again under their locks.
    """
    day = on or today()
    if task is None:
        fields = {k: v for k, v in changes.items() if k != "position"}
        new = Task(**fields)
        new.started, new.completed = _new_task_dates(new, changes, day)
        return check_task(before=None, after=_state(new), today=day)
    draft = Task.objects.get(pk=task.pk)
    before = _apply(draft, changes, day)
    return check_task(before=before, after=_state(draft), today=day)


def move_task(
    task_id: int,
    *,
    sprint: Sprint | None,
    status: str,
    position: int,
    expected_version: int,
    on: date | None = None,
) -> Task:
    """The board's drag and drop: one request, one transaction, refused on a stale version."""
    changes = {"sprint": sprint, "status": status, "position": position}
    return update_task(task_id, changes, expected_version=expected_version, on=on)


def delete_task(task_id: int) -> None:
    """Delete a task and close the gap it leaves in its column."""

    def write() -> None:
        task = _locked_task(task_id)
        column: Column = (task.sprint_id, task.status)
        task.delete()
        _renumber(_column_tasks(column))

    run_in_transaction(write, what=f"delete task {task_id}")


# --- sprints --------------------------------------------------------------------------------


def create_sprint(fields: Mapping[str, Any], *, on: date | None = None) -> Sprint:
    _check_fields(fields, SPRINT_FIELDS)
    errors = check_sprint_end(old_end=None, new_end=fields["end"], today=on or today())
    if errors:
        raise RuleViolation(errors)
    return run_in_transaction(lambda: Sprint.objects.create(**fields), what="create sprint")


def update_sprint(sprint_id: int, changes: Mapping[str, Any], *, on: date | None = None) -> Sprint:
    _check_fields(changes, SPRINT_FIELDS)

    def write() -> Sprint:
        sprint = Sprint.objects.select_for_update().get(pk=sprint_id)
        if "end" in changes:
            errors = check_sprint_end(
                old_end=sprint.end, new_end=changes["end"], today=on or today()
            )
            if errors:
                raise RuleViolation(errors)
        for field, value in changes.items():
            setattr(sprint, field, value)
        sprint.save()
        return sprint

    return run_in_transaction(write, what=f"update sprint {sprint_id}")


def delete_sprint(sprint_id: int) -> None:
    """Delete an empty sprint; one with tasks raises :class:`SprintNotEmpty`."""

    def write() -> None:
        _lock_columns([sprint_id])
        sprint = Sprint.objects.get(pk=sprint_id)
        count = sprint.tasks.count()
        if count:
            raise SprintNotEmpty(sprint, count)
        sprint.delete()

    run_in_transaction(write, what=f"delete sprint {sprint_id}")
