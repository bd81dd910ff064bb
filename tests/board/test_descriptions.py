"""Descriptions have a maximum, so that every board event fits in signaling's hook body limit.

Above the maximum the API (and the pages and the admin, through the same model field) refuses the
change with 400 on ``description``; at the maximum, with the characters that take the most room in
the hook's JSON, the event still fits (here) and reaches another viewer through the real signaling
server (``test_signaling_integration.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from board.live import hooks
from board.scrum import events, services
from board.scrum.models import DESCRIPTION_MAX_LENGTH, Sprint, Task
from tests.board.conftest import SECRET

# Outside the Basic Multilingual Plane: two \uXXXX escapes (12 bytes) in the hook's JSON.
WIDEST = "\U0001f600"
LARGEST_ID = 2**63 - 1


def too_long_message(response: Any) -> str:
    assert response.status_code == 400, response.content
    (message,) = response.json()["description"]
    return str(message)


def test_a_task_description_over_the_maximum_is_refused_naming_the_field(api, sprint) -> None:
    body = {"name": "long", "sprint": sprint.pk, "description": "x" * (DESCRIPTION_MAX_LENGTH + 1)}
    message = too_long_message(api.post("/api/tasks/", body))
    assert f"{DESCRIPTION_MAX_LENGTH}" in message
    assert not Task.objects.exists()


def test_a_task_description_at_the_maximum_is_saved(api, sprint) -> None:
    body = {"name": "long", "sprint": sprint.pk, "description": WIDEST * DESCRIPTION_MAX_LENGTH}
    response = api.post("/api/tasks/", body)
    assert response.status_code == 201, response.content
    assert Task.objects.get().description == WIDEST * DESCRIPTION_MAX_LENGTH


def test_an_edit_over_the_maximum_is_refused_and_changes_nothing(api, sprint, make_task) -> None:
    task = make_task(sprint=sprint, description="short")
    too_long = {"description": "y" * (DESCRIPTION_MAX_LENGTH + 1), "version": 1}
    too_long_message(api.patch(f"/api/tasks/{task.pk}/", too_long))
    task.refresh_from_db()
    assert (task.description, task.version) == ("short", 1)


def test_a_sprint_description_over_the_maximum_is_refused(api, sprint, today) -> None:
    body = {"name": "S", "end": str(today), "description": "z" * (DESCRIPTION_MAX_LENGTH + 1)}
    too_long_message(api.post("/api/sprints/", body))
    patch = {"description": "z" * (DESCRIPTION_MAX_LENGTH + 1)}
    too_long_message(api.patch(f"/api/sprints/{sprint.pk}/", patch))
    assert Sprint.objects.get().description == ""


def test_the_add_sprint_page_refuses_a_description_over_the_maximum(user, today) -> None:
    browser = Client()
    browser.force_login(user)
    form = {"name": "S", "end": str(today), "description": "z" * (DESCRIPTION_MAX_LENGTH + 1)}
    response = browser.post("/", form)
    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors["description"]
    assert not Sprint.objects.exists()


def test_the_largest_possible_task_event_fits_in_the_hook_limit(
    db: None, make_sprint: Callable[..., Sprint]
) -> None:
    assignee = User.objects.create_user(
        WIDEST * 150, first_name=WIDEST * 150, last_name=WIDEST * 150
    )
    sprint = make_sprint(name=WIDEST * 100, description=WIDEST * DESCRIPTION_MAX_LENGTH)
    task = services.create_task(
        {
            "name": WIDEST * 100,
            "description": WIDEST * DESCRIPTION_MAX_LENGTH,
            "sprint": sprint,
            "status": "done",
            "assignee": assignee,
            "due": sprint.end,
        }
    )
    event = events.task_event(task, "updated")
    # The ids here are small; in links and fields they can grow to 19 digits each.
    digits_to_spare = 19 * str(event).count(str(task.pk)) + 19 * 4
    for item in (event, events.sprint_event(sprint, "updated")):
        body = hooks.sign_hook(LARGEST_ID, item, secret=SECRET).body
        assert len(body) + digits_to_spare < hooks.HOOK_MAX_BYTES, len(body)


@pytest.mark.django_db(transaction=True)
def test_an_event_over_the_limit_is_logged_as_not_sent(
    settings, sprint, caplog: pytest.LogCaptureFixture
) -> None:
    """Only a write that skips validation (a shell) can make one; it is not lost silently."""
    settings.WATERCOOLER_HOOK_URL = "http://127.0.0.1:9/hooks/board"  # never reached
    caplog.set_level("ERROR", logger="board.hooks")
    services.create_task(
        {"name": "huge", "sprint": sprint, "description": "x" * hooks.HOOK_MAX_BYTES}
    )
    assert hooks.drain(5.0)
    (record,) = [r for r in caplog.records if "not sent" in r.getMessage()]
    assert "over signaling's limit" in record.getMessage()
