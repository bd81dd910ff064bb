"""Hooks: the board posts signed board events to signaling after commit, without delaying requests.

Received here by a small real HTTP server (``hook_receiver.py``); the real signaling server receives
them in ``test_signaling_integration.py``.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from board.live import hooks
from board.scrum.models import Sprint, Task
from tests.board.conftest import SECRET
from tests.board.hook_receiver import WAIT, HookReceiver, task_names


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run a change as if committed (on_commit callbacks run), then wait for the hooks."""

    def run(change: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            result = change()
        assert hooks.drain(WAIT)
        return result

    return run


def events(receiver: HookReceiver) -> list[tuple[str, str, str]]:
    """(sprint, model, action) of each hook received, in order."""
    return [
        (h.json["sprint"], h.json["event"]["model"], h.json["event"]["action"])
        for h in receiver.received
    ]


def free_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_hook_request_is_signed_per_the_contract(receiver, committed, api, sprint) -> None:
    response = committed(lambda: api.post("/api/tasks/", {"name": "t", "sprint": sprint.pk}))
    [hook] = receiver.received
    assert hook.path == "/hooks/board"
    assert hook.headers["Content-Type"] == "application/json"
    scheme, token = hook.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="watercooler/hook")
    assert claims["body_sha256"] == hashlib.sha256(hook.body).hexdigest()
    assert 0 < claims["exp"] - time.time() <= 60
    assert len(claims["jti"]) >= 16
    assert hook.json == {
        "sprint": str(sprint.pk),
        "event": {"model": "task", "action": "created", "task": response.json()},
    }


def test_every_token_is_fresh(receiver, committed, api, sprint, make_task) -> None:
    task = make_task("t", sprint=sprint)
    for name in ("a", "b", "c"):
        committed(lambda n=name: api.patch(f"/api/tasks/{task.pk}/", {"name": n}))
    tokens = [h.headers["Authorization"] for h in receiver.received]
    jtis = {jwt.decode(t[7:], options={"verify_signature": False})["jti"] for t in tokens}
    assert len(jtis) == 3


def test_update_event_carries_the_new_version(receiver, committed, api, sprint, make_task) -> None:
    task = make_task("t", sprint=sprint)
    response = committed(
        lambda: api.post(
            f"/api/tasks/{task.pk}/move/",
            {"sprint": sprint.pk, "status": "testing", "position": 0, "version": 1},
        )
    )
    [hook] = receiver.received
    assert hook.json["event"] == {"model": "task", "action": "updated", "task": response.json()}
    assert hook.json["event"]["task"]["version"] == 2


def test_a_move_between_sprints_is_posted_to_both(
    receiver, committed, api, sprint, make_sprint, make_task
) -> None:
    later = make_sprint(days=30)
    task = make_task("t", sprint=sprint)
    committed(
        lambda: api.post(
            f"/api/tasks/{task.pk}/move/",
            {"sprint": later.pk, "status": "not_started", "position": 0, "version": 1},
        )
    )
    assert sorted(events(receiver)) == sorted(
        [(str(sprint.pk), "task", "updated"), (str(later.pk), "task", "updated")]
    )
    first, second = receiver.received
    assert first.json["event"] == second.json["event"]


def test_backlog_tasks_are_posted_to_no_sprint(receiver, committed, api, sprint, make_task) -> None:
    task = committed(lambda: api.post("/api/tasks/", {"name": "idea"}))
    committed(lambda: api.patch(f"/api/tasks/{task.json()['id']}/", {"name": "better idea"}))
    committed(lambda: api.delete(f"/api/tasks/{task.json()['id']}/"))
    assert receiver.received == []
    moved = make_task("m")
    committed(
        lambda: api.post(
            f"/api/tasks/{moved.pk}/move/",
            {"sprint": sprint.pk, "status": "not_started", "position": 0, "version": 1},
        )
    )
    assert events(receiver) == [(str(sprint.pk), "task", "updated")]


def test_delete_event_carries_the_task(receiver, committed, api, sprint, make_task) -> None:
    task = make_task("t", sprint=sprint)
    committed(lambda: api.delete(f"/api/tasks/{task.pk}/"))
    [hook] = receiver.received
    assert hook.json["event"]["action"] == "deleted"
    assert hook.json["event"]["task"]["id"] == task.pk
    assert hook.json["event"]["task"]["name"] == "t"


def test_sprint_events(receiver, committed, api, today) -> None:
    created = committed(lambda: api.post("/api/sprints/", {"name": "S", "end": str(today)}))
    sprint_id = created.json()["id"]
    committed(lambda: api.patch(f"/api/sprints/{sprint_id}/", {"name": "S2"}))
    committed(lambda: api.delete(f"/api/sprints/{sprint_id}/"))
    sid = str(sprint_id)
    assert events(receiver) == [
        (sid, "sprint", "created"),
        (sid, "sprint", "updated"),
        (sid, "sprint", "deleted"),
    ]
    assert receiver.received[0].json["event"]["sprint"] == created.json()
    assert receiver.received[1].json["event"]["sprint"]["name"] == "S2"
    assert "signaling" not in receiver.received[1].json["event"]["sprint"]["links"]


def test_refused_changes_post_nothing(receiver, committed, api, sprint, make_sprint, make_task):
    task = make_task("t", sprint=sprint, status="done")
    later = make_sprint(days=30)
    response = committed(lambda: api.patch(f"/api/tasks/{task.pk}/", {"sprint": later.pk}))
    assert response.status_code == 400
    response = committed(lambda: api.patch(f"/api/tasks/{task.pk}/", {"name": "x", "version": 9}))
    assert response.status_code == 409
    assert receiver.received == []


def test_admin_changes_are_posted(receiver, committed, sprint, make_task, db) -> None:
    admin = User.objects.create_superuser("root", password="pw-root-123")
    browser = Client()
    browser.force_login(admin)
    task = make_task("t", sprint=sprint)
    form = {
        "name": "renamed in admin",
        "description": "",
        "sprint": sprint.pk,
        "status": "in_progress",
        "position": "0",
        "assignee": "",
        "started": "",
        "due": "",
        "completed": "",
    }
    response = committed(lambda: browser.post(f"/admin/scrum/task/{task.pk}/change/", form))
    assert response.status_code == 302, response.content.decode()[:2000]
    [hook] = receiver.received
    event = hook.json["event"]
    assert (event["action"], event["task"]["name"], event["task"]["version"]) == (
        "updated",
        "renamed in admin",
        2,
    )
    assert event["task"]["status"] == "in_progress"
    assert event["task"]["started"] is not None
    committed(lambda: browser.post(f"/admin/scrum/task/{task.pk}/delete/", {"post": "yes"}))
    assert events(receiver)[-1] == (str(sprint.pk), "task", "deleted")
    assert not Task.objects.exists()


def test_hooks_do_not_delay_requests_to_a_slow_signaling(
    settings, django_capture_on_commit_callbacks, api, sprint, caplog: pytest.LogCaptureFixture
) -> None:
    """Signaling answers no hook until both requests are done. Had a request waited for its hook,
    that hook would have run out of time first and been logged as not delivered."""
    slow = HookReceiver(hold=True)
    settings.WATERCOOLER_HOOK_URL = slow.url
    settings.WATERCOOLER_HOOK_TIMEOUT = 10.0
    caplog.set_level(logging.INFO, logger="board.hooks")
    try:
        for name in ("a", "b"):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                response = api.post("/api/tasks/", {"name": name, "sprint": sprint.pk})
            assert response.status_code == 201
            assert len(callbacks) == 1
        slow.release()
        assert hooks.drain(WAIT)
        assert [h.json["event"]["task"]["name"] for h in slow.received] == ["a", "b"]
        logged = [record.getMessage() for record in caplog.records]
        assert [line for line in logged if "not delivered" in line] == []
        assert sum(line.endswith('{"delivered":0}') for line in logged) == 2
    finally:
        slow.release()
        hooks.drain(WAIT)
        slow.close()


@pytest.mark.django_db(transaction=True)
def test_a_request_succeeds_while_signaling_is_down(
    settings, api: APIClient, sprint: Sprint, caplog: pytest.LogCaptureFixture
) -> None:
    settings.WATERCOOLER_HOOK_URL = f"http://127.0.0.1:{free_closed_port()}/hooks/board"
    caplog.set_level(logging.WARNING, logger="board.hooks")
    response = api.post("/api/tasks/", {"name": "t", "sprint": sprint.pk})
    assert response.status_code == 201
    assert hooks.drain(WAIT)
    assert any("not delivered" in r.getMessage() for r in caplog.records)
    assert Task.objects.filter(name="t").exists()


def test_sign_hook_covers_the_exact_body() -> None:
    signed = hooks.sign_hook(7, {"model": "task"}, secret=SECRET)
    assert signed.body == b'{"sprint":"7","event":{"model":"task"}}'
    token = signed.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="watercooler/hook")
    assert claims["body_sha256"] == hashlib.sha256(signed.body).hexdigest()


def test_an_empty_hook_url_disables_hooks(
    settings, receiver: HookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing is sent: not to the URL set before (the receiver's), and no attempt that fails."""
    caplog.set_level(logging.DEBUG, logger="board.hooks")
    settings.WATERCOOLER_HOOK_URL = ""
    hooks.post_event(1, {"model": "task"})
    assert hooks.drain(WAIT)
    assert receiver.received == []
    assert [r.getMessage() for r in caplog.records if r.name == "board.hooks"] == [
        "hook disabled (WATERCOOLER_HOOK_URL is empty); event dropped"
    ]


def test_a_stuck_hook_for_one_sprint_does_not_hold_up_another_sprints(
    stuck, django_capture_on_commit_callbacks, api, make_sprint
) -> None:
    first, second = make_sprint(name="first"), make_sprint(name="second")
    assert hooks.sender_index(first.pk) != hooks.sender_index(second.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/tasks/", {"name": "a", "sprint": first.pk})
    assert response.status_code == 201  # answered while its hook is held
    stuck.wait_held(1, WAIT)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/tasks/", {"name": "b", "sprint": second.pk})
    assert response.status_code == 201
    stuck.wait_held(2, WAIT)  # both posted at once: "b" did not wait for "a" to time out
    stuck.release()
    assert hooks.drain(WAIT)
    assert sorted(task_names(stuck)) == ["a", "b"]


def test_the_api_answers_while_every_hook_is_held(
    stuck, django_capture_on_commit_callbacks, api, sprint
) -> None:
    for name in ("a", "b", "c"):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/tasks/", {"name": name, "sprint": sprint.pk})
        assert response.status_code == 201
    stuck.wait_held(1, WAIT)
    stuck.release()
    assert hooks.drain(WAIT)
    assert task_names(stuck) == ["a", "b", "c"]  # one sprint's events in order


def test_a_full_queue_drops_its_oldest_events_counted_and_logged(
    stuck, django_capture_on_commit_callbacks, api, sprint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="board.hooks")
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/tasks/", {"name": "sent first", "sprint": sprint.pk})
    stuck.wait_held(1, WAIT)  # taken off the queue, being sent
    dropped_before = hooks.poster.dropped
    names = [f"t{n}" for n in range(hooks.QUEUE_LIMIT + 3)]
    with django_capture_on_commit_callbacks(execute=True):
        for name in names:
            assert api.post("/api/tasks/", {"name": name, "sprint": sprint.pk}).status_code == 201

    assert hooks.poster.dropped - dropped_before == 3
    logged = [r.getMessage() for r in caplog.records if "dropped the oldest" in r.getMessage()]
    assert len(logged) == 3
    oldest = Task.objects.get(name="t0")
    assert f"(task {oldest.pk} created) for sprint {sprint.pk}" in logged[0]
    assert logged[-1].endswith(f"{hooks.poster.dropped} dropped since start")
    stuck.release()
    assert hooks.drain(WAIT)
    assert task_names(stuck) == ["sent first", *names[3:]]
