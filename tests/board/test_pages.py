"""The HTML pages: login/logout, the sprint list with "add sprint", the board page, the admin."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.test import Client

from board.scrum.models import Sprint


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_login(sprint: Sprint) -> None:
    client = Client()
    for url in ("/", f"/sprints/{sprint.pk}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_login_and_logout(user: User) -> None:
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post("/login/", {"username": "ada", "password": "pw-ada-123"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert client.get("/").status_code == 302


def test_login_with_a_wrong_password_says_so(user: User) -> None:
    response = Client().post("/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_sprint_list_shows_current_and_past_sprints(user: User, make_sprint) -> None:
    make_sprint(5, "Now")
    make_sprint(-5, "Before")
    page = logged_in(user).get("/").content.decode()
    assert "Now" in page
    assert "Past sprints" in page
    assert page.index("Now") < page.index("Before")
    assert 'id="add-sprint"' in page


def test_add_sprint_form(user: User, today: date) -> None:
    end = today + timedelta(days=14)
    response = logged_in(user).post("/", {"name": "Next", "end": end.isoformat()})
    sprint = Sprint.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/sprints/{sprint.pk}/")
    assert (sprint.name, sprint.end) == ("Next", end)


def test_add_sprint_form_refuses_a_past_end(user: User, today: date) -> None:
    end = today - timedelta(days=1)
    response = logged_in(user).post("/", {"name": "Late", "end": end.isoformat()})
    assert response.status_code == 200
    assert "can&#x27;t be in the past" in response.content.decode()
    assert not Sprint.objects.exists()


def test_board_page_renders_columns_and_config(user: User, sprint: Sprint, make_task) -> None:
    make_task("idea")
    make_task("doing", sprint=sprint, status="in_progress")
    client = logged_in(user)
    response = client.get(f"/sprints/{sprint.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for key in ("backlog", "not_started", "in_progress", "testing", "done"):
        assert f'data-column="{key}"' in page
    assert "idea" in page
    assert "doing" in page
    start = page.index('<script id="board-config" type="application/json">')
    blob = page[start:].split(">", 1)[1].split("</script>", 1)[0]
    config = json.loads(blob)
    assert config["sprintId"] == sprint.pk
    assert config["apiRoot"] == "/api/"
    assert config["user"] == {"id": user.pk, "name": "Ada L"}
    assert config["csrfToken"]
    # The session and that CSRF token let the page's script call the API.
    move = client.post(
        "/api/tasks/",
        {"name": "from the page", "sprint": sprint.pk},
        content_type="application/json",
        headers={"X-CSRFToken": config["csrfToken"]},
    )
    assert move.status_code == 201


def test_board_page_of_a_missing_sprint_is_404(user: User, db: None) -> None:
    assert logged_in(user).get("/sprints/999/").status_code == 404


def test_admin_is_enabled(db: None) -> None:
    admin = User.objects.create_superuser("root", password="pw-root-123")
    client = logged_in(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/scrum/task/add/").status_code == 200
    assert client.get("/admin/scrum/sprint/").status_code == 200


def test_admin_form_shows_rule_errors(sprint: Sprint, today: date, db: None) -> None:
    client = logged_in(User.objects.create_superuser("root", password="pw-root-123"))
    form = {
        "name": "t",
        "description": "",
        "sprint": "",
        "status": "done",
        "position": "",
        "assignee": "",
        "started": "",
        "due": "",
        "completed": "",
    }
    response = client.post("/admin/scrum/task/add/", form)
    assert response.status_code == 200
    assert "A backlog task (no sprint) must be Not Started." in response.content.decode()
    form |= {"sprint": sprint.pk}
    response = client.post("/admin/scrum/task/add/", form)
    assert response.status_code == 302
    end = (today - timedelta(days=3)).isoformat()
    response = client.post("/admin/scrum/sprint/add/", {"name": "x", "description": "", "end": end})
    assert "can&#x27;t be in the past" in response.content.decode()


def test_static_files_are_found() -> None:
    from django.contrib.staticfiles import finders

    assert finders.find("watercooler/site.css")
