"""Login to the API: the token endpoint, and every endpoint refusing anonymous callers."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from board.scrum.models import Sprint, Task


def test_token_login_returns_a_token_that_authenticates(anon: APIClient, user: User) -> None:
    response = anon.post("/api/token/", {"username": "ada", "password": "pw-ada-123"})
    assert response.status_code == 200
    token = response.json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert anon.get("/api/sprints/").status_code == 200


def test_token_login_with_a_wrong_password_is_refused(anon: APIClient, user: User) -> None:
    response = anon.post("/api/token/", {"username": "ada", "password": "nope"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_session_login_works_for_the_api(user: User) -> None:
    client = APIClient()
    assert client.login(username="ada", password="pw-ada-123")
    assert client.get("/api/tasks/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/"),
        ("get", "/api/sprints/"),
        ("post", "/api/sprints/"),
        ("get", "/api/sprints/{sprint}/"),
        ("patch", "/api/sprints/{sprint}/"),
        ("delete", "/api/sprints/{sprint}/"),
        ("get", "/api/sprints/{sprint}/ticket/"),
        ("get", "/api/tasks/"),
        ("post", "/api/tasks/"),
        ("get", "/api/tasks/{task}/"),
        ("put", "/api/tasks/{task}/"),
        ("patch", "/api/tasks/{task}/"),
        ("delete", "/api/tasks/{task}/"),
        ("post", "/api/tasks/{task}/move/"),
        ("get", "/api/users/"),
        ("get", "/api/users/{user}/"),
    ],
)
def test_every_endpoint_needs_login(anon: APIClient, user: User, method: str, path: str) -> None:
    sprint = Sprint.objects.create(name="s", end="2999-01-01")
    task = Task.objects.create(name="t", sprint=sprint)
    url = path.format(sprint=sprint.pk, task=task.pk, user=user.pk)
    response = getattr(anon, method)(url, {}, format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert Sprint.objects.filter(pk=sprint.pk).exists()
    assert Task.objects.filter(pk=task.pk, version=1).exists()
