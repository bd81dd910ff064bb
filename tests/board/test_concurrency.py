"""Concurrent moves against one real database, from threads with their own connections.

On PostgreSQL the service layer's row locks serialize the transactions; on SQLite ``BEGIN
IMMEDIATE`` does. Either way: of two moves of one task from the same version exactly one wins and
the other gets 409, and every column's positions stay 0..n-1.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from board.scrum.models import Sprint, Task
from board.scrum.transactions import run_in_transaction
from tests.board.conftest import positions_consistent
from tests.board.threads import THREAD_TIMEOUT, run_together

pytestmark = pytest.mark.django_db(transaction=True)


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


STORM_CLIENTS = 8
STORM_ROUNDS = 25


def storm_client(
    user: User, sprints: list[Sprint], tasks: list[int], guard: threading.Lock, seed: int
) -> Callable[[], Any]:
    """A client that moves random tasks to random columns (two sprints and the backlog), now and
    then deleting one and creating another in its place; the answers it got, by kind."""

    def call() -> Any:
        rnd = random.Random(seed)
        api = client_for(user)
        answers: list[tuple[str, int]] = []
        for _ in range(STORM_ROUNDS):
            with guard:
                task_id = rnd.choice(tasks)
            seen = api.get(f"/api/tasks/{task_id}/")
            if seen.status_code != 200:
                continue
            sprint = rnd.choice([*sprints, None])
            status = "not_started" if sprint is None else rnd.choice(MOVE_STATUSES)
            body = {
                "sprint": sprint.pk if sprint else None,
                "status": status,
                "position": rnd.randint(0, 8),
                "version": seen.json()["version"],
            }
            answers.append(("move", api.post(f"/api/tasks/{task_id}/move/", body).status_code))
            if rnd.random() < 0.1:
                deleted = api.delete(f"/api/tasks/{task_id}/").status_code
                answers.append(("delete", deleted))
                if deleted == 204:
                    created = api.post(
                        "/api/tasks/", {"name": "re", "sprint": rnd.choice(sprints).pk}
                    )
                    answers.append(("create", created.status_code))
                    if created.status_code == 201:
                        with guard:
                            tasks[tasks.index(task_id)] = created.json()["id"]
        return answers

    return call


MOVE_STATUSES = ["not_started", "in_progress", "testing"]


def test_a_storm_of_moves_deletes_and_creates_never_fails(
    settings, user: User, make_sprint, make_task, caplog: pytest.LogCaptureFixture
) -> None:
    """Many clients moving a few tasks between sprints and the backlog at once. On PostgreSQL each
    request locks rows; taken out of one global order they deadlock. Not one deadlock happens
    (none is even retried): the order holds."""
    caplog.set_level(logging.WARNING, logger="board.transactions")
    settings.WATERCOOLER_THROTTLE_RATES = {**settings.WATERCOOLER_THROTTLE_RATES, "writes": None}
    sprints = [make_sprint(name=f"s{i}") for i in range(2)]
    tasks = [make_task(f"t{i}", sprint=sprints[i % 2]).pk for i in range(8)]
    tasks += [make_task(f"b{i}").pk for i in range(4)]
    client_for(user)
    guard = threading.Lock()
    outcomes = run_together(
        [storm_client(user, sprints, tasks, guard, seed) for seed in range(STORM_CLIENTS)]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    answers = [answer for answers in outcomes for answer in answers]
    assert {code for _, code in answers} <= {200, 201, 204, 404, 409}, answers
    assert sum(1 for kind, code in answers if kind == "move" and code == 200) > 0
    assert positions_consistent()
    assert [r.getMessage() for r in caplog.records if r.name == "board.transactions"] == []


@pytest.mark.postgresql  # SQLite runs one write transaction at a time: nothing can deadlock
def test_a_transaction_that_deadlocks_is_run_again(make_sprint, caplog) -> None:
    """The safety net under the lock order: two writes that lock two rows in opposite orders
    deadlock; the database aborts one, which is run again from the start and succeeds."""
    caplog.set_level(logging.WARNING, logger="board.transactions")
    first, second = make_sprint(name="first"), make_sprint(name="second")
    both_hold_one = threading.Barrier(2)
    attempts: collections.Counter[str] = collections.Counter()

    def locking(name: str, rows: list[Sprint]) -> Callable[[], int]:
        def write() -> int:
            attempts[name] += 1
            for index, row in enumerate(rows):
                if index == 1 and attempts[name] == 1:
                    both_hold_one.wait(THREAD_TIMEOUT)
                Sprint.objects.select_for_update().get(pk=row.pk)
            return attempts[name]

        return lambda: run_in_transaction(write, what=name)

    outcomes = run_together(
        [locking("forwards", [first, second]), locking("backwards", [second, first])]
    )
    assert sorted(outcomes) == [1, 2], outcomes
    retried = "forwards" if attempts["forwards"] == 2 else "backwards"
    assert [r.getMessage() for r in caplog.records if r.name == "board.transactions"] == [
        f"{retried}: deadlock, starting the transaction again (retry 1)"
    ]
