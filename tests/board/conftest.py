"""Fixtures for the board suite: users, API clients, sprints and tasks on the test database.

Hooks are off unless a test turns them on (``WATERCOOLER_HOOK_URL`` empty), so no test posts to
whatever happens to listen on port 8080.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from board.live import hooks
from board.scrum import services
from board.scrum.models import Sprint, Task
from tests.board.hook_receiver import WAIT, HookReceiver

SECRET = "test-secret-for-the-board-suite-0123456789abcdef"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgresql`` run in the PostgreSQL pass only (``make test-postgres``): on
    SQLite they are deselected, not skipped, since nothing is missing there."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    elsewhere = [item for item in items if item.get_closest_marker("postgresql")]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


@pytest.fixture(autouse=True)
def _board_settings(settings: Any) -> None:
    settings.WATERCOOLER_HOOK_URL = ""
    settings.WATERCOOLER_SECRET = SECRET
    # Real hashing costs about a second per password: too slow for a fixture used everywhere.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def today() -> date:
    return services.today()


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user("ada", password="pw-ada-123", first_name="Ada", last_name="L")


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user("bob", password="pw-bob-123")


@pytest.fixture
def api(user: User) -> APIClient:
    """An API client logged in as ``user`` with a token."""
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def make_sprint(db: None, today: date) -> Callable[..., Sprint]:
    def make(days: int = 14, name: str = "", **fields: Any) -> Sprint:
        """A sprint ending ``days`` from today (negative: in the past, bypassing the rule)."""
        return Sprint.objects.create(name=name, end=today + timedelta(days=days), **fields)

    return make


@pytest.fixture
def sprint(make_sprint: Callable[..., Sprint]) -> Sprint:
    return make_sprint(name="Current")


@pytest.fixture
def make_task(db: None) -> Callable[..., Task]:
    def make(name: str = "task", **fields: Any) -> Task:
        return services.create_task({"name": name, **fields})

    return make


def column(sprint: Sprint | None, status: str = "not_started") -> list[tuple[str, int]]:
    """(name, position) of a column's tasks in position order."""
    tasks = Task.objects.filter(sprint=sprint, status=status).order_by("position", "id")
    return [(t.name, t.position) for t in tasks]


def positions_consistent() -> bool:
    """Every column's positions are exactly 0..n-1."""
    columns: dict[tuple[int | None, str], list[int]] = {}
    for task in Task.objects.all():
        columns.setdefault((task.sprint_id, task.status), []).append(task.position)
    return all(sorted(p) == list(range(len(p))) for p in columns.values())


@pytest.fixture
def results() -> Callable[[Any], list[dict[str, Any]]]:
    def unwrap(response: Any) -> list[dict[str, Any]]:
        assert response.status_code == 200, response.content
        return list(response.json()["results"])

    return unwrap


@pytest.fixture
def receiver(settings: Any) -> Iterator[HookReceiver]:
    """A signaling stand-in that records the hook requests the board sends and answers 202."""
    hooks.drain(WAIT)  # nothing left over from an earlier test
    server = HookReceiver()
    settings.WATERCOOLER_HOOK_URL = server.url
    yield server
    hooks.drain(WAIT)
    server.close()


@pytest.fixture
def stuck(settings: Any) -> Iterator[HookReceiver]:
    """A signaling that takes hook requests and answers none until released (black-holed)."""
    hooks.drain(WAIT)
    server = HookReceiver(hold=True)
    settings.WATERCOOLER_HOOK_URL = server.url
    settings.WATERCOOLER_HOOK_TIMEOUT = 60.0  # the test releases the requests long before
    yield server
    server.release()
    assert hooks.drain(WAIT)
    server.close()
