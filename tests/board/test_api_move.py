"""POST /api/tasks/{id}/move/: one request, one transaction, versions, positions, rules, dates."""

from datetime import date, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from board.scrum.models import Sprint, Task
from tests.board.conftest import column, positions_consistent


def move(api: APIClient, task: Task, **body: Any) -> Any:
    task.refresh_from_db()
    body.setdefault("version", task.version)
    return api.post(f"/api/tasks/{task.pk}/move/", body)


@pytest.fixture
def lanes(sprint: Sprint, make_task) -> dict[str, list[Task]]:
    """Three tasks in Not Started, two in In Progress, two in the backlog."""
    return {
        "todo": [make_task(f"todo{i}", sprint=sprint) for i in range(3)],
        "doing": [make_task(f"doing{i}", sprint=sprint, status="in_progress") for i in range(2)],
        "backlog": [make_task(f"idea{i}") for i in range(2)],
    }


def test_move_across_columns_renumbers_both(api, sprint, lanes) -> None:
    task = lanes["todo"][0]
    response = move(api, task, sprint=sprint.pk, status="in_progress", position=1)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["position"], body["version"]) == ("in_progress", 1, 2)
    assert column(sprint, "in_progress") == [("doing0", 0), ("todo0", 1), ("doing1", 2)]
    assert column(sprint, "not_started") == [("todo1", 0), ("todo2", 1)]
    assert positions_consistent()


def test_move_within_a_column(api, sprint, lanes) -> None:
    response = move(api, lanes["todo"][0], sprint=sprint.pk, status="not_started", position=2)
    assert response.json()["position"] == 2
    assert column(sprint) == [("todo1", 0), ("todo2", 1), ("todo0", 2)]
    response = move(api, lanes["todo"][0], sprint=sprint.pk, status="not_started", position=0)
    assert column(sprint) == [("todo0", 0), ("todo1", 1), ("todo2", 2)]


def test_position_past_the_end_goes_last(api, sprint, lanes) -> None:
    response = move(api, lanes["backlog"][0], sprint=sprint.pk, status="not_started", position=50)
    assert response.json()["position"] == 3
    assert column(None) == [("idea1", 0)]


def test_move_between_backlog_and_sprint(api, sprint, lanes) -> None:
    task = lanes["todo"][1]
    response = move(api, task, sprint=None, status="not_started", position=0)
    assert response.status_code == 200
    assert response.json()["sprint"] is None
    assert column(None) == [("todo1", 0), ("idea0", 1), ("idea1", 2)]
    assert column(sprint) == [("todo0", 0), ("todo2", 1)]


def test_siblings_keep_their_versions(api, sprint, lanes) -> None:
    move(api, lanes["todo"][2], sprint=sprint.pk, status="not_started", position=0)
    assert [t.version for t in lanes["todo"][:2] if t.refresh_from_db() is None] == [1, 1]


def test_stale_version_is_409_with_the_current_task(api, sprint, lanes) -> None:
    task = lanes["todo"][0]
    assert move(api, task, sprint=sprint.pk, status="testing", position=0).status_code == 200
    response = api.post(
        f"/api/tasks/{task.pk}/move/",
        {"sprint": sprint.pk, "status": "done", "position": 0, "version": 1},
    )
    assert response.status_code == 409
    body = response.json()
    assert body["task"]["status"] == "testing"
    assert body["task"]["version"] == 2
    assert "detail" in body
    task.refresh_from_db()
    assert (task.status, task.version) == ("testing", 2)


def test_move_body_is_validated(api, sprint, lanes) -> None:
    task = lanes["todo"][0]
    response = api.post(f"/api/tasks/{task.pk}/move/", {"status": "nope", "position": -2})
    assert response.status_code == 400
    assert set(response.json()) == {"sprint", "status", "position", "version"}
    response = move(api, task, sprint=12345, status="testing", position=0)
    assert set(response.json()) == {"sprint"}


def test_move_missing_task_is_404(api, db) -> None:
    body = {"sprint": None, "status": "not_started", "position": 0, "version": 1}
    assert api.post("/api/tasks/999/move/", body).status_code == 404


def test_move_sets_and_clears_dates(api, sprint, lanes, today: date) -> None:
    task = lanes["todo"][0]
    body = move(api, task, sprint=sprint.pk, status="testing", position=0).json()
    assert (body["started"], body["completed"]) == (str(today), None)
    body = move(api, task, sprint=sprint.pk, status="done", position=0).json()
    assert (body["started"], body["completed"]) == (str(today), str(today))
    body = move(api, task, sprint=sprint.pk, status="in_progress", position=0).json()
    assert (body["started"], body["completed"]) == (str(today), None)
    body = move(api, task, sprint=sprint.pk, status="not_started", position=0).json()
    assert (body["started"], body["completed"]) == (None, None)


def test_move_keeps_an_existing_started_date(api, sprint, make_task, today) -> None:
    earlier = today - timedelta(days=4)
    task = make_task("t", sprint=sprint, status="in_progress", started=earlier)
    body = move(api, task, sprint=sprint.pk, status="done", position=0).json()
    assert (body["started"], body["completed"]) == (str(earlier), str(today))


def test_move_into_a_past_sprint_is_refused(api, make_sprint, lanes) -> None:
    ended = make_sprint(days=-2)
    response = move(api, lanes["backlog"][0], sprint=ended.pk, status="not_started", position=0)
    assert response.status_code == 400
    assert list(response.json()) == ["sprint"]


def test_moving_within_an_ended_sprint_is_allowed(api, make_sprint, make_task) -> None:
    ended = make_sprint(days=-2)
    task = Task.objects.create(name="late", sprint=ended)
    response = move(api, task, sprint=ended.pk, status="done", position=0)
    assert response.status_code == 200, response.json()
    del make_task


def test_done_task_cannot_change_sprint(api, sprint, make_sprint, make_task) -> None:
    task = make_task("t", sprint=sprint, status="done")
    later = make_sprint(days=40)
    response = move(api, task, sprint=later.pk, status="in_progress", position=0)
    assert response.status_code == 400
    assert response.json() == {"sprint": ["A Done task can't change sprint."]}


@pytest.mark.parametrize("status", ["in_progress", "testing", "done"])
def test_backlog_only_takes_not_started(api, lanes, status: str) -> None:
    response = move(api, lanes["todo"][0], sprint=None, status=status, position=0)
    assert response.status_code == 400
    assert "status" in response.json()


def test_refused_move_changes_nothing(api, sprint, lanes) -> None:
    before = list(Task.objects.values_list("id", "sprint", "status", "position", "version"))
    move(api, lanes["doing"][0], sprint=None, status="in_progress", position=0)
    after = list(Task.objects.values_list("id", "sprint", "status", "position", "version"))
    assert before == after
