"""/api/tasks/: the representation, CRUD, rules, versions, positions, filters, search, ordering."""

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from board.scrum.models import Sprint, Task
from tests.board.conftest import column, positions_consistent


def test_task_representation(api: APIClient, sprint: Sprint, user: User, today: date) -> None:
    due = today + timedelta(days=3)
    response = api.post(
        "/api/tasks/",
        {
            "name": "Write tests",
            "description": "all of them",
            "sprint": sprint.pk,
            "status": "in_progress",
            "assignee": user.pk,
            "due": due.isoformat(),
        },
    )
    assert response.status_code == 201, response.json()
    task = Task.objects.get()
    assert response.json() == {
        "id": task.pk,
        "name": "Write tests",
        "description": "all of them",
        "sprint": sprint.pk,
        "status": "in_progress",
        "status_display": "In Progress",
        "position": 0,
        "assignee": user.pk,
        "assignee_name": "Ada L",
        "started": today.isoformat(),
        "due": due.isoformat(),
        "completed": None,
        "version": 1,
        "links": {
            "self": f"/api/tasks/{task.pk}/",
            "move": f"/api/tasks/{task.pk}/move/",
            "sprint": f"/api/sprints/{sprint.pk}/",
            "assignee": f"/api/users/{user.pk}/",
        },
    }
    assert api.get(f"/api/tasks/{task.pk}/").json() == response.json()


def test_create_backlog_task_defaults(api: APIClient, other_user: User) -> None:
    other_user.first_name = ""
    other_user.save()
    body = api.post("/api/tasks/", {"name": "idea", "assignee": other_user.pk}).json()
    assert body["sprint"] is None
    assert body["status"] == "not_started"
    assert body["status_display"] == "Not Started"
    assert body["assignee_name"] == "bob"
    assert body["links"]["sprint"] is None
    assert (body["started"], body["completed"], body["version"]) == (None, None, 1)


def test_create_requires_a_name(api: APIClient, db: None) -> None:
    response = api.post("/api/tasks/", {"description": "nameless"})
    assert response.status_code == 400
    assert list(response.json()) == ["name"]


def test_create_appends_or_inserts_at_position(api: APIClient, sprint: Sprint) -> None:
    for name in ("a", "b", "c"):
        api.post("/api/tasks/", {"name": name, "sprint": sprint.pk})
    response = api.post("/api/tasks/", {"name": "x", "sprint": sprint.pk, "position": 1})
    assert response.json()["position"] == 1
    api.post("/api/tasks/", {"name": "far", "sprint": sprint.pk, "position": 99})
    assert column(sprint) == [("a", 0), ("x", 1), ("b", 2), ("c", 3), ("far", 4)]


def test_create_in_a_past_sprint_is_refused(api: APIClient, make_sprint) -> None:
    ended = make_sprint(days=-1)
    response = api.post("/api/tasks/", {"name": "late", "sprint": ended.pk})
    assert response.status_code == 400
    assert list(response.json()) == ["sprint"]
    assert not Task.objects.exists()


@pytest.mark.parametrize("status", ["in_progress", "testing", "done"])
def test_backlog_task_must_be_not_started(api: APIClient, db: None, status: str) -> None:
    response = api.post("/api/tasks/", {"name": "t", "status": status})
    assert response.status_code == 400
    assert response.json() == {"status": ["A backlog task (no sprint) must be Not Started."]}


def test_started_not_allowed_on_not_started(api: APIClient, sprint: Sprint, today: date) -> None:
    response = api.post("/api/tasks/", {"name": "t", "sprint": sprint.pk, "started": today})
    assert response.status_code == 400
    assert response.json() == {"started": ["A Not Started task can't have a started date."]}


@pytest.mark.parametrize("status", ["not_started", "in_progress", "testing"])
def test_completed_only_on_done(api: APIClient, sprint: Sprint, today: date, status: str) -> None:
    body = {"name": "t", "sprint": sprint.pk, "status": status, "completed": today}
    response = api.post("/api/tasks/", body)
    assert response.status_code == 400
    assert response.json()["completed"] == ["Only a Done task can have a completed date."]


def test_create_done_task_with_explicit_dates(api: APIClient, sprint: Sprint, today: date) -> None:
    day = today - timedelta(days=2)
    body = {"name": "t", "sprint": sprint.pk, "status": "done", "started": day, "completed": day}
    response = api.post("/api/tasks/", body)
    assert response.status_code == 201, response.json()
    assert (response.json()["started"], response.json()["completed"]) == (str(day), str(day))


def test_invalid_values_are_field_errors(api: APIClient, db: None) -> None:
    response = api.post(
        "/api/tasks/", {"name": "t", "status": "later", "sprint": 999, "position": -1}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"status", "sprint", "position"}


def test_patch_increments_version(api: APIClient, make_task) -> None:
    task = make_task("t")
    first = api.patch(f"/api/tasks/{task.pk}/", {"name": "renamed"})
    assert first.status_code == 200
    assert (first.json()["name"], first.json()["version"]) == ("renamed", 2)
    second = api.patch(f"/api/tasks/{task.pk}/", {"description": "more"})
    assert second.json()["version"] == 3


def test_patch_with_stale_version_is_409(api: APIClient, make_task) -> None:
    task = make_task("t")
    api.patch(f"/api/tasks/{task.pk}/", {"name": "v2"})
    response = api.patch(f"/api/tasks/{task.pk}/", {"name": "lost", "version": 1})
    assert response.status_code == 409
    body = response.json()
    assert "version 1" in body["detail"]
    assert (body["task"]["name"], body["task"]["version"]) == ("v2", 2)
    ok = api.patch(f"/api/tasks/{task.pk}/", {"name": "v3", "version": 2})
    assert (ok.status_code, ok.json()["version"]) == (200, 3)


def test_put_replaces_and_checks_the_version(api: APIClient, sprint: Sprint, make_task) -> None:
    task = make_task("t", sprint=sprint)
    body = {"name": "new", "sprint": sprint.pk, "status": "testing", "version": 1}
    response = api.put(f"/api/tasks/{task.pk}/", body)
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["version"]) == ("testing", 2)
    assert response.json()["started"] is not None
    assert api.put(f"/api/tasks/{task.pk}/", body).status_code == 409


def test_patch_status_applies_the_date_rules(
    api: APIClient, sprint: Sprint, make_task, today
) -> None:
    task = make_task("t", sprint=sprint)
    done = api.patch(f"/api/tasks/{task.pk}/", {"status": "done"}).json()
    assert (done["started"], done["completed"]) == (str(today), str(today))
    reopened = api.patch(f"/api/tasks/{task.pk}/", {"status": "in_progress"}).json()
    assert (reopened["started"], reopened["completed"]) == (str(today), None)
    reset = api.patch(f"/api/tasks/{task.pk}/", {"status": "not_started"}).json()
    assert (reset["started"], reset["completed"]) == (None, None)


def test_patch_rules(api: APIClient, sprint: Sprint, make_sprint, make_task, today) -> None:
    task = make_task("t", sprint=sprint, status="done")
    other = make_sprint(days=30)
    response = api.patch(f"/api/tasks/{task.pk}/", {"sprint": other.pk})
    assert response.status_code == 400
    assert response.json() == {"sprint": ["A Done task can't change sprint."]}
    response = api.patch(f"/api/tasks/{task.pk}/", {"sprint": None})
    assert response.status_code == 400
    assert set(response.json()) == {"sprint", "status"}
    response = api.patch(f"/api/tasks/{task.pk}/", {"status": "testing", "completed": today})
    assert response.json() == {"completed": ["Only a Done task can have a completed date."]}
    task.refresh_from_db()
    assert (task.sprint, task.status, task.version) == (sprint, "done", 1)


def test_patch_into_a_past_sprint_is_refused(api: APIClient, make_sprint, make_task) -> None:
    task = make_task("t")
    ended = make_sprint(days=-1)
    response = api.patch(f"/api/tasks/{task.pk}/", {"sprint": ended.pk})
    assert response.status_code == 400
    assert "sprint" in response.json()


def test_patch_sprint_moves_to_the_end_of_the_new_column(api, sprint, make_task) -> None:
    make_task("a", sprint=sprint)
    moving = make_task("m")
    make_task("b")
    api.patch(f"/api/tasks/{moving.pk}/", {"sprint": sprint.pk})
    assert column(sprint) == [("a", 0), ("m", 1)]
    assert column(None) == [("b", 0)]


def test_delete_task_closes_the_gap(api: APIClient, sprint: Sprint, make_task) -> None:
    tasks = [make_task(name, sprint=sprint) for name in "abc"]
    assert api.delete(f"/api/tasks/{tasks[0].pk}/").status_code == 204
    assert column(sprint) == [("b", 0), ("c", 1)]
    assert api.delete(f"/api/tasks/{tasks[0].pk}/").status_code == 404


@pytest.fixture
def spread(sprint: Sprint, make_sprint, make_task, user: User, other_user: User) -> dict[str, Task]:
    later = make_sprint(days=30, name="Later")
    return {
        "idea": make_task("idea", description="someday login"),
        "spec": make_task("spec", sprint=sprint, assignee=user),
        "code": make_task("code login", sprint=sprint, status="in_progress", assignee=user),
        "test": make_task("test", sprint=sprint, status="testing", assignee=other_user),
        "ship": make_task("ship", sprint=sprint, status="done"),
        "next": make_task("next", sprint=later),
    }


def names(api: APIClient, results: Callable, query: str) -> list[str]:
    return [t["name"] for t in results(api.get(f"/api/tasks/?{query}"))]


def test_filters(api, results, spread, sprint, user, other_user) -> None:
    assert sorted(names(api, results, f"sprint={sprint.pk}")) == [
        "code login",
        "ship",
        "spec",
        "test",
    ]
    assert names(api, results, f"sprint={sprint.pk}&status=testing") == ["test"]
    assert sorted(names(api, results, "status=not_started")) == ["idea", "next", "spec"]
    assert sorted(names(api, results, f"assignee={user.pk}")) == ["code login", "spec"]
    assert names(api, results, f"assignee={other_user.pk}") == ["test"]
    assert names(api, results, "backlog=true") == ["idea"]
    assert "idea" not in names(api, results, "backlog=false")
    assert len(names(api, results, "backlog=false")) == 5
    assert api.get("/api/tasks/?status=later").status_code == 400


def test_search(api, results, spread) -> None:
    assert sorted(names(api, results, "search=login")) == ["code login", "idea"]


def test_ordering(api, results, spread) -> None:
    assert names(api, results, "ordering=name")[:3] == ["code login", "idea", "next"]
    assert names(api, results, "ordering=-name")[0] == "test"
    by_position = results(api.get("/api/tasks/?ordering=position,name"))
    assert [t["position"] for t in by_position] == sorted(t["position"] for t in by_position)


def test_page_size_up_to_500(api: APIClient, sprint: Sprint) -> None:
    Task.objects.bulk_create(Task(name=f"t{i}", sprint=sprint, position=i) for i in range(520))
    page = api.get(f"/api/tasks/?sprint={sprint.pk}&page_size=1000").json()
    assert page["count"] == 520
    assert len(page["results"]) == 500
    assert page["next"] is not None
    assert len(api.get("/api/tasks/").json()["results"]) == 100


def test_positions_stay_consistent_across_a_mix_of_writes(api, sprint, make_task) -> None:
    tasks = [make_task(f"t{i}", sprint=sprint) for i in range(5)]
    api.delete(f"/api/tasks/{tasks[2].pk}/")
    api.patch(f"/api/tasks/{tasks[0].pk}/", {"status": "testing"})
    api.post("/api/tasks/", {"name": "n", "sprint": sprint.pk, "position": 0})
    api.patch(f"/api/tasks/{tasks[4].pk}/", {"position": 0})
    assert positions_consistent()
    assert column(sprint) == [("t4", 0), ("n", 1), ("t1", 2), ("t3", 3)]
