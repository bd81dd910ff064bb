"""The board against the real signaling server (``python -m signaling`` as a subprocess).

Tickets from the board's API are accepted, and refused with 4401 once expired; a change made through
the board's API reaches, through the hook, the peers of that sprint and no one else. Websocket peers
are plain aiohttp clients speaking docs/protocol.md section 1.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from rest_framework.test import APIClient

from board.live import hooks
from board.scrum.models import DESCRIPTION_MAX_LENGTH, Sprint
from tests.board.conftest import SECRET
from tests.board.signaling_process import (
    WAIT,
    SignalingProcess,
    receive_close_with_reason,
    receive_type,
    running_signaling,
)
from tests.support.websocket import client_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def signaling_server() -> Iterator[SignalingProcess]:
    with running_signaling(SECRET) as server:
        yield server


@pytest.fixture
def signaling(signaling_server: SignalingProcess, settings: Any) -> Iterator[SignalingProcess]:
    """The running server, with the board's settings pointing at it."""
    settings.WATERCOOLER_SIGNALING_URL = signaling_server.ws_url
    settings.WATERCOOLER_HOOK_URL = signaling_server.hook_url
    yield signaling_server
    assert hooks.drain(WAIT)
    # Sprint ids repeat from test to test (the database is emptied), so the next test may join
    # only once this one's sockets are gone from the server's rooms.
    deadline = time.monotonic() + WAIT
    while connections_open(signaling_server):
        assert time.monotonic() < deadline, "a test's websockets never left the server"
        time.sleep(0.02)


def connections_open(server: SignalingProcess) -> int:
    with urllib.request.urlopen(f"{server.http_url}/healthz", timeout=WAIT) as response:
        return int(json.load(response)["connections"])


async def in_board(call: Callable[[], Any]) -> Any:
    """Run board (Django, blocking) code off the event loop; its connection is closed after."""

    def run() -> Any:
        try:
            return call()
        finally:
            connections.close_all()

    return await sync_to_async(run, thread_sensitive=False)()


async def get_json(api: APIClient, url: str) -> dict[str, Any]:
    response = await in_board(lambda: api.get(url))
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


async def join(session: aiohttp.ClientSession, signaling: dict[str, Any]) -> Any:
    """Connect with the board's ``links.signaling`` and join; the socket and the welcome."""
    ws = await session.ws_connect(signaling["url"], timeout=aiohttp.ClientWSTimeout(ws_close=WAIT))
    await ws.send_json({"type": "join", "ticket": signaling["ticket"]})
    return ws


async def test_a_ticket_from_the_board_is_accepted(signaling, api, sprint, user) -> None:
    detail = await get_json(api, f"/api/sprints/{sprint.pk}/")
    assert detail["links"]["signaling"]["url"] == signaling.ws_url
    async with client_session() as session:
        ws = await join(session, detail["links"]["signaling"])
        welcome = await receive_type(ws, "welcome")
        assert welcome["sprint"] == str(sprint.pk)
        assert welcome["peers"] == []
        fresh = await get_json(api, f"/api/sprints/{sprint.pk}/ticket/")
        other = await join(session, fresh)
        second = await receive_type(other, "welcome")
        assert second["peers"][0]["user"] == {"id": str(user.pk), "name": "Ada L"}
        joined = await receive_type(ws, "peer-joined")
        assert joined["user"]["name"] == "Ada L"
        await ws.close()
        await other.close()


async def test_an_expired_ticket_is_refused_with_4401(signaling, api, sprint, settings) -> None:
    settings.WATERCOOLER_TICKET_TTL = -1  # minted already past its expiry: nothing to wait for
    ticket = await get_json(api, f"/api/sprints/{sprint.pk}/ticket/")
    expires = datetime.fromisoformat(ticket["expires"].replace("Z", "+00:00")).timestamp()
    assert expires < time.time()
    async with client_session() as session:
        ws = await join(session, ticket)
        code, reason = await receive_close_with_reason(ws)
        assert code == 4401
        assert "expired" in reason.lower()


async def test_a_board_change_reaches_the_peers_of_its_sprint_only(
    signaling, api, sprint, make_sprint
) -> None:
    other_sprint: Sprint = await in_board(lambda: make_sprint(days=30, name="Other"))
    own = await get_json(api, f"/api/sprints/{sprint.pk}/ticket/")
    elsewhere = await get_json(api, f"/api/sprints/{other_sprint.pk}/ticket/")
    async with client_session() as session:
        watcher = await join(session, own)
        await receive_type(watcher, "welcome")
        outsider = await join(session, elsewhere)
        await receive_type(outsider, "welcome")

        created = await in_board(
            lambda: api.post("/api/tasks/", {"name": "live", "sprint": sprint.pk})
        )
        assert created.status_code == 201
        message = await receive_type(watcher, "event")
        assert message["event"] == {"model": "task", "action": "created", "task": created.json()}

        task = created.json()
        moved = await in_board(
            lambda: api.post(
                f"/api/tasks/{task['id']}/move/",
                {"sprint": sprint.pk, "status": "testing", "position": 0, "version": 1},
            )
        )
        assert moved.status_code == 200
        message = await receive_type(watcher, "event")
        assert message["event"]["task"]["version"] == 2
        assert message["event"]["task"]["status"] == "testing"

        # Had either event reached the outsider, it would come before this one from its own sprint.
        own = {"name": "own", "sprint": other_sprint.pk}
        assert (await in_board(lambda: api.post("/api/tasks/", own))).status_code == 201
        message = await receive_type(outsider, "event")
        assert message["event"]["task"]["name"] == "own"
        await watcher.close()
        await outsider.close()


async def test_a_move_between_sprints_reaches_both(signaling, api, sprint, make_sprint) -> None:
    later: Sprint = await in_board(lambda: make_sprint(days=30, name="Later"))
    task = await in_board(lambda: api.post("/api/tasks/", {"name": "t", "sprint": sprint.pk}))
    async with client_session() as session:
        peers = []
        for target in (sprint, later):
            ws = await join(session, await get_json(api, f"/api/sprints/{target.pk}/ticket/"))
            await receive_type(ws, "welcome")
            peers.append(ws)
        body = {"sprint": later.pk, "status": "not_started", "position": 0, "version": 1}
        await in_board(lambda: api.post(f"/api/tasks/{task.json()['id']}/move/", body))
        for ws in peers:
            message = await receive_type(ws, "event")
            assert message["event"]["task"]["sprint"] == later.pk
            await ws.close()


async def test_a_description_at_the_maximum_reaches_another_viewer(
    signaling, api, sprint, make_task
) -> None:
    """The widest characters (12 bytes each in the hook's JSON) at the documented maximum."""
    task = await in_board(lambda: make_task(sprint=sprint))
    description = "\U0001f600" * DESCRIPTION_MAX_LENGTH
    async with client_session() as session:
        viewer = await join(session, await get_json(api, f"/api/sprints/{sprint.pk}/ticket/"))
        await receive_type(viewer, "welcome")
        edited = await in_board(
            lambda: api.patch(f"/api/tasks/{task.pk}/", {"description": description})
        )
        assert edited.status_code == 200, edited.content
        message = await receive_type(viewer, "event")
        assert message["event"]["task"]["description"] == description
        assert message["event"]["task"]["version"] == edited.json()["version"]
        await viewer.close()
