"""How long hook events may wait, and what becomes of the waiting ones when a worker stops.

Events are live updates: one that waited longer than ``WATERCOOLER_HOOK_MAX_AGE`` is dropped,
counted and logged rather than delivered late; a stopping gunicorn worker waits a bounded time for
its queues and logs how many events it leaves undelivered. (Delivery itself: ``test_hooks``.)
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from board.live import hooks
from tests.board.hook_receiver import WAIT, HookReceiver, task_names
from tests.board.production import (
    PASSWORD,
    USERNAME,
    Http,
    migrated_database,
    production_environment,
    start_board,
)

MAX_AGE = 0.2


def wait_until_older_than(moment: float, seconds: float) -> None:
    """Bounded wait until ``seconds`` have passed since ``moment`` (``time.monotonic()``)."""
    while time.monotonic() - moment <= seconds:
        time.sleep(seconds / 10)


def test_events_that_waited_too_long_are_dropped_counted_and_logged(
    stuck, settings, django_capture_on_commit_callbacks, api, sprint, caplog
) -> None:
    settings.WATERCOOLER_HOOK_MAX_AGE = MAX_AGE
    caplog.set_level(logging.ERROR, logger="board.hooks")
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/tasks/", {"name": "sent first", "sprint": sprint.pk})
    stuck.wait_held(1, WAIT)  # being sent, held
    dropped_before = hooks.poster.dropped
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("late 1", "late 2", "late 3"):
            assert api.post("/api/tasks/", {"name": name, "sprint": sprint.pk}).status_code == 201
    queued = time.monotonic()
    wait_until_older_than(queued, MAX_AGE)
    stuck.release()
    assert hooks.drain(WAIT)
    assert task_names(stuck) == ["sent first"]
    assert hooks.poster.dropped - dropped_before == 3
    [line] = [r.getMessage() for r in caplog.records if "waited over" in r.getMessage()]
    assert f"dropped 3 events that waited over {MAX_AGE:g} s" in line
    assert line.endswith(f"{hooks.poster.dropped} dropped since start")

    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/tasks/", {"name": "fresh", "sprint": sprint.pk})
    assert hooks.drain(WAIT)
    assert task_names(stuck) == ["sent first", "fresh"]  # the sender goes on


def test_a_stopping_worker_says_how_many_events_it_leaves_undelivered(tmp_path: Path) -> None:
    """gunicorn, two workers, signaling black-holed: every event is either delivered, failed or
    counted as left undelivered in a line the worker logs as it stops."""
    black_hole = HookReceiver(hold=True)
    env = production_environment(
        migrated_database(tmp_path),
        WATERCOOLER_HOOK_URL=black_hole.url,
        WATERCOOLER_HOOK_TIMEOUT="60",
        WATERCOOLER_HOOK_EXIT_DRAIN="0.5",
    )
    board = start_board(env)
    try:
        client = Http(board.port)
        login = {"username": USERNAME, "password": PASSWORD}
        token = client.request("POST", "/api/token/", body=login).json()["token"]
        auth = {"Authorization": f"Token {token}"}
        sprint = client.request("POST", "/api/sprints/", body={"end": "2999-01-01"}, headers=auth)
        path = "/api/tasks/"
        task = client.request(
            "POST", path, body={"name": "t", "sprint": sprint.json()["id"]}, headers=auth
        )
        edits = 20
        for n in range(edits):
            patch = client.request(
                "PATCH", f"{path}{task.json()['id']}/", body={"name": f"t{n}"}, headers=auth
            )
            assert patch.status == 200
        black_hole.wait_held(1, WAIT)
    finally:
        board.stop()
        black_hole.close()
    lines = re.findall(r"stopping with (\d+) hook events undelivered", board.output)
    assert lines, board.output[-3000:]
    assert sum(int(n) for n in lines) == edits + 2  # the sprint, the task, the edits
    assert "Traceback" not in board.output
