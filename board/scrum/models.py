"""Sprints and tasks.

A task lives in one *column*: a sprint's status column, or the backlog (no sprint, always Not
Started). ``position`` orders the tasks of a column 0..n-1; the service layer (``services.py``)
keeps it so. ``version`` counts the task's own saves: every ``save()`` increments it in the
database, which is what optimistic concurrency (moves, PATCH with ``version``) and the clients'
"newer wins" rule compare. Renumbering the siblings of a moved task is not a save of those
siblings and leaves their versions alone (their order follows from the moved task's position).

Descriptions are at most ``DESCRIPTION_MAX_LENGTH`` characters, so that every board event fits in
signaling's hook body limit (256 KiB, docs/protocol.md 1.5) and reaches the other viewers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse

# The hook body is JSON with non-ASCII escaped: a character outside the Basic Multilingual Plane
# takes 12 bytes (two \uXXXX escapes), the most any character takes. 20,000 such characters are
# 240,000 bytes, which leaves room under 262,144 for the rest of the event at its largest (names
# of 100 and 2 x 150 such characters, links, dates); tests/board/test_descriptions.py checks it.
DESCRIPTION_MAX_LENGTH = 20_000


class Sprint(models.Model):
    name = models.CharField(max_length=100, blank=True, default="")
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    end = models.DateField()

    class Meta:
        ordering = ["end"]

    def __str__(self) -> str:
        return self.name or f"Sprint ending {self.end}"

    def get_absolute_url(self) -> str:
        return reverse("sprint-board", args=[self.pk])


class Status(models.TextChoices):
    NOT_STARTED = "not_started", "Not Started"
    IN_PROGRESS = "in_progress", "In Progress"
    TESTING = "testing", "Testing"
    DONE = "done", "Done"


class Task(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    sprint = models.ForeignKey(
        Sprint, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    position = models.PositiveIntegerField(default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    started = models.DateField(null=True, blank=True)
    due = models.DateField(null=True, blank=True)
    completed = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    # The sprint this instance had when loaded; a move from sprint A to B is announced to both.
    loaded_sprint_id: int | None = None

    class Meta:
        ordering = ["sprint_id", "status", "position", "id"]
        indexes = [models.Index(fields=["sprint", "status", "position"], name="task_column")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Task:
        instance = super().from_db(db, field_names, values)
        instance.loaded_sprint_id = instance.__dict__.get("sprint_id")
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save and increment ``version`` in the database (no increment is ever lost)."""
        adding = self._state.adding
        if not adding:
            self.version = models.F("version") + 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version"}
        super().save(*args, **kwargs)
        self.settle_version()
        self.loaded_sprint_id = self.sprint_id

    def settle_version(self) -> None:
        """Replace the pending ``F("version") + 1`` by the number the database now holds."""
        if not isinstance(self.version, int):
            self.refresh_from_db(fields=["version"])

    @property
    def in_backlog(self) -> bool:
        return self.sprint_id is None


class BacklogLock(models.Model):
    """The backlog's lock: one row, locked by every write that changes the backlog's tasks.

    A sprint's column is locked by locking the sprint's row; the backlog has no row of its own, so
    this is it (``services`` takes it in the one global lock order). Locking the backlog's task rows
    instead would miss a task that joins the backlog after the lock was taken. The row is created
    when first needed.
    """

    ROW = 1

    class Meta:
        verbose_name = "backlog lock"


def display_name(user: Any) -> str:
    """What other people see: the full name, or the username when there is none."""
    return (user.get_full_name() or "").strip() or user.get_username()
