"""Board events: model signals turn every saved or deleted task and sprint into a hook post.

Signals (not only the API) so that changes made in the admin or a shell are announced too. The
event is built at signal time (the state this save wrote) and posted once the transaction commits;
a rolled back change announces nothing. A task is announced to its sprint and, after a move, to the
sprint it left; a backlog task to none (docs/protocol.md 1.5).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from board.live import hooks
from board.scrum.models import Sprint, Task


def connect() -> None:
    post_save.connect(task_saved, sender=Task, dispatch_uid="watercooler-task-saved")
    post_delete.connect(task_deleted, sender=Task, dispatch_uid="watercooler-task-deleted")
    post_save.connect(sprint_saved, sender=Sprint, dispatch_uid="watercooler-sprint-saved")
    post_delete.connect(sprint_deleted, sender=Sprint, dispatch_uid="watercooler-sprint-deleted")


def announce(sprint_ids: Iterable[int | None], event: dict[str, Any], *, using: str) -> None:
    """Post ``event`` to each sprint's room after the current transaction commits."""
    for sprint_id in sorted({pk for pk in sprint_ids if pk is not None}):
        transaction.on_commit(
            functools.partial(hooks.post_event, sprint_id, event), using=using, robust=True
        )


def task_event(task: Task, action: str) -> dict[str, Any]:
    from board.scrum.serializers import task_json

    task.settle_version()
    return {"model": "task", "action": action, "task": task_json(task)}


def sprint_event(sprint: Sprint, action: str) -> dict[str, Any]:
    from board.scrum.serializers import sprint_json

    return {"model": "sprint", "action": action, "sprint": sprint_json(sprint)}


def task_saved(sender: Any, instance: Task, created: bool, raw: bool = False, **kw: Any) -> None:
    if raw:  # loading fixtures
        return
    event = task_event(instance, "created" if created else "updated")
    announce(
        [instance.sprint_id, instance.loaded_sprint_id], event, using=kw.get("using", "default")
    )


def task_deleted(sender: Any, instance: Task, **kw: Any) -> None:
    announce(
        [instance.sprint_id], task_event(instance, "deleted"), using=kw.get("using", "default")
    )


def sprint_saved(
    sender: Any, instance: Sprint, created: bool, raw: bool = False, **kw: Any
) -> None:
    if raw:
        return
    event = sprint_event(instance, "created" if created else "updated")
    announce([instance.pk], event, using=kw.get("using", "default"))


def sprint_deleted(sender: Any, instance: Sprint, **kw: Any) -> None:
    announce([instance.pk], sprint_event(instance, "deleted"), using=kw.get("using", "default"))
