"""Wrong-typed fields fed to a real tab: it drops them, draws every card on its own, and keeps
showing the board's changes (docs/protocol.md 2.7).

Real processes (board, signaling, Chromium). Fields come in through the tab's inbound paths: a
board event posted through signaling's hook (signed as the board signs it, section 1.5) and
data-channel frames handed to the page's message handler; and once a bad record is put straight
into the page's state, as a bug elsewhere might, to show that the view draws each card alone.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.board_page import card
from tests.e2e.conftest import SECRET, Stack

pytestmark = pytest.mark.webrtc

OpenBoard = Callable[..., Page]
UNPRINTABLE = {"toString": None, "valueOf": None}  # no template string can print this object


def post_board_event(stack: Stack, event: dict[str, Any]) -> None:
    """Post ``event`` to the sprint through signaling's hook, signed like the board does."""
    body = json.dumps({"sprint": str(stack.sprint), "event": event}).encode()
    now = int(time.time())
    claims = {
        "aud": "watercooler/hook",
        "exp": now + 30,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    request = urllib.request.Request(
        f"{stack.signaling.http_url}/hooks/board", data=body, method="POST"
    )
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def record_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    return errors


def assert_every_card_is_whole(page: Page) -> None:
    cards = page.locator("#board .task")
    expect(cards.locator(".title strong")).to_have_count(cards.count())
    expect(cards.locator(".meta .assignee")).to_have_count(cards.count())


def test_wrong_typed_fields_never_reach_the_page_and_it_keeps_updating(
    stack: Stack, open_board: OpenBoard
) -> None:
    dana = open_board("demo")
    errors = record_errors(dana)
    task = stack.task_named("Task search")
    bad_fields: list[dict[str, Any]] = [
        {"due": UNPRINTABLE},
        {"assignee": 2, "assignee_name": 5},
        {"name": ["not", "a", "name"]},
        {"started": "yesterday"},
        {"position": -3},
    ]
    for number, fields in enumerate(bad_fields, start=1):
        bad = {**task, **fields, "version": task["version"] + number}
        post_board_event(stack, {"model": "task", "action": "updated", "task": bad})
        frame = json.dumps({"type": "task-updated", "id": f"x:{number}", "task": bad})
        dana.evaluate("frame => window.watercooler.onPeerMessage('x', frame, 'direct')", frame)
    hover = {"type": "drag-hover", "id": "x:99", "task": task["id"], "over": {"column": 3}}
    dana.evaluate(
        "frame => window.watercooler.onPeerMessage('x', frame, 'direct')", json.dumps(hover)
    )

    # A real change after all of them is shown, and every card is drawn whole.
    other = stack.task_named("CSV export")
    stack.api("PATCH", f"/api/tasks/{other['id']}/", {"name": "CSV export, live"}, user="sam")
    expect(card(dana, other["id"])).to_contain_text("CSV export, live")
    expect(card(dana, task["id"])).to_contain_text("Task search")
    assert_every_card_is_whole(dana)
    assert errors == []


def test_one_record_that_cannot_be_drawn_does_not_stop_the_others(
    stack: Stack, open_board: OpenBoard
) -> None:
    dana = open_board("demo")
    errors = record_errors(dana)
    task = stack.task_named("Sign-up page copy")
    dana.evaluate(
        """([id, due]) => {
            const live = window.watercooler;
            const kept = live.state.tasks.get(id);
            live.state.tasks.set(id, {...kept, due, assignee: 2, assignee_name: 5});
            live.redraw();
        }""",
        [task["id"], UNPRINTABLE],
    )
    expect(card(dana, task["id"])).to_have_class("task unreadable")
    expect(card(dana, task["id"])).to_have_text(f"Task #{task['id']}")

    other = stack.task_named("CSV export")
    stack.api("PATCH", f"/api/tasks/{other['id']}/", {"name": "CSV export, live"}, user="sam")
    expect(card(dana, other["id"])).to_contain_text("CSV export, live")
    # The board's next state of the task replaces the bad record, and the card is whole again.
    stack.api("PATCH", f"/api/tasks/{task['id']}/", {"name": "Sign-up copy"}, user="sam")
    expect(card(dana, task["id"])).to_contain_text("Sign-up copy")
    expect(card(dana, task["id"])).not_to_have_class("task unreadable")
    assert_every_card_is_whole(dana)
    assert errors == []
