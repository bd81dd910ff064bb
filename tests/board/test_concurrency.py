"""Concurrent moves against one real database, from threads with their own connections.

On PostgreSQL the service layer's row locks serialize the transactions; on SQLite ``BEGIN
IMMEDIATE`` does. Either way: of two moves of one task from the same version exactly one wins and
the other gets 409, and every column's positions stay 0..n-1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from board.scrum.models import Sprint, Task
from tests.board.conftest import positions_consistent

pytestmark = pytest.mark.django_db(transaction=True)

THREAD_TIMEOUT = 30


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released at the same moment; their results in order."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            outcomes[index] = calls[index]()
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
        assert not thread.is_alive(), "a move did not finish in time (deadlock?)"
    return outcomes


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def mover(user: User, task: Task, **body: Any) -> Callable[[], Any]:
    def call() -> Any:
        response = client_for(user).post(f"/api/tasks/{task.pk}/move/", body)
        return response.status_code, response.json()

    return call


def test_two_moves_of_one_task_one_wins_one_gets_409(user: User, sprint: Sprint, make_task) -> None:
    todo = [make_task(f"todo{i}", sprint=sprint) for i in range(4)]
    for i in range(3):
        make_task(f"testing{i}", sprint=sprint, status="testing")
    client_for(user)  # create the token before the threads race for it
    for round_ in range(4):
        task = todo[round_]
        task.refresh_from_db()
        version = task.version
        outcomes = run_together(
            [
                mover(
                    user, task, sprint=sprint.pk, status="in_progress", position=0, version=version
                ),
                mover(user, task, sprint=sprint.pk, status="testing", position=1, version=version),
            ]
        )
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        codes = sorted(code for code, _ in outcomes)
        assert codes == [200, 409], outcomes
        winner = next(body for code, body in outcomes if code == 200)
        loser = next(body for code, body in outcomes if code == 409)
        assert loser["task"]["status"] == winner["status"]
        assert loser["task"]["version"] == winner["version"] == version + 1
        task.refresh_from_db()
        assert (task.status, task.position, task.version) == (
            winner["status"],
            winner["position"],
            version + 1,
        )
        assert positions_consistent()


def test_concurrent_moves_of_different_tasks_all_succeed(
    user: User, sprint: Sprint, make_task
) -> None:
    tasks = [make_task(f"t{i}", sprint=sprint) for i in range(6)]
    backlog = [make_task(f"b{i}") for i in range(2)]
    client_for(user)
    statuses = ["in_progress", "testing", "not_started"]
    calls = [
        mover(user, task, sprint=sprint.pk, status=statuses[i % 3], position=0, version=1)
        for i, task in enumerate(tasks)
    ]
    calls += [
        mover(user, task, sprint=sprint.pk, status="not_started", position=1, version=1)
        for task in backlog
    ]
    calls.append(mover(user, tasks[0], sprint=None, status="not_started", position=0, version=1))
    outcomes = run_together(calls)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    codes = [code for code, _ in outcomes]
    # tasks[0] was moved twice from version 1: exactly one of those two wins.
    assert codes[1:8] == [200] * 7, outcomes
    assert sorted([codes[0], codes[8]]) == [200, 409], outcomes
    assert positions_consistent()
    assert Task.objects.count() == 8
