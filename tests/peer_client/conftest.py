"""Fixtures for the peer client suite: a real signaling server, joined sessions, event recorders.

WebRTC tests (``@pytest.mark.webrtc``) run inside a loopback-only network namespace
(``make test-webrtc``); ``tests.support.webrtc`` makes aiortc gather 127.0.0.1 there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

import tests.support.webrtc  # noqa: F401  (applies the aioice loopback patch)
from peer_client.session import BoardSession
from peer_client.signaling import Ticket
from signaling.tickets import mint_ticket
from tests.support.processes import SignalingProcess
from tests.support.waiting import wait_until

SECRET = "peer-client-test-secret-0123456789abcdef"
OPEN_TIMEOUT = 15.0


@pytest.fixture
def signaling() -> Iterator[SignalingProcess]:
    """``python -m signaling`` on a free port, for one test."""
    process = SignalingProcess(SECRET).wait_ready()
    try:
        yield process
    finally:
        process.stop()


class Recorder:
    """Records a session's events as ``(name, payload)``; :meth:`wait_for` one that matches."""

    NAMES = (
        "joined",
        "presence",
        "peer-joined",
        "peer-left",
        "link",
        "hello",
        "drag",
        "task-updated",
        "task-deleted",
        "signaling",
        "rejected",
    )

    def __init__(self, session: BoardSession) -> None:
        self.events: list[tuple[str, Any]] = []
        for name in self.NAMES:
            session.on(name, lambda payload, name=name: self.events.append((name, payload)))

    def of(self, name: str) -> list[Any]:
        return [payload for event, payload in self.events if event == name]

    async def wait_for(
        self,
        name: str,
        predicate: Callable[[Any], bool] = lambda payload: True,
        timeout: float = OPEN_TIMEOUT,
    ) -> Any:
        found: list[Any] = []

        def match() -> bool:
            found[:] = [p for p in self.of(name) if predicate(p)]
            return bool(found)

        await wait_until(match, timeout, f"a {name!r} event")
        return found[0]


PeerFactory = Callable[..., Awaitable[tuple[BoardSession, Recorder]]]


@pytest.fixture
async def make_peer(signaling: SignalingProcess) -> AsyncIterator[PeerFactory]:
    """Join the sprint as a new aiortc peer: ``session, recorder = await make_peer("Ann")``."""
    sessions: list[BoardSession] = []

    async def make(
        name: str, *, sprint: int = 1, user_id: str | None = None, **options: Any
    ) -> tuple[BoardSession, Recorder]:
        def ticket() -> Ticket:
            token = mint_ticket(
                SECRET, sprint=str(sprint), user_id=user_id or name.lower(), name=name
            )
            return Ticket(signaling.ws_url, token)

        async def fresh_ticket() -> Ticket:
            return ticket()

        session = BoardSession(sprint, ticket(), ticket_source=fresh_ticket, **options)
        recorder = Recorder(session)
        sessions.append(session)
        await asyncio.wait_for(session.join(), OPEN_TIMEOUT)
        return session, recorder

    yield make
    await asyncio.gather(*(session.close() for session in sessions))


async def wait_linked(*sessions: BoardSession, timeout: float = OPEN_TIMEOUT) -> None:
    """Wait until every pair of ``sessions`` has an open direct channel."""

    def linked() -> bool:
        for session in sessions:
            for other in sessions:
                if other is session:
                    continue
                if session.link_state(other.peer) != "direct":
                    return False
        return True

    await wait_until(linked, timeout, "every pair of peers to have an open channel")


def sample_task(
    task_id: int, status: str = "not_started", position: int = 0, *, sprint: int | None = 1
) -> dict[str, Any]:
    """A task as the board's API shows it (the fields the peers use)."""
    return {
        "id": task_id,
        "name": f"Task {task_id}",
        "description": "",
        "sprint": sprint,
        "status": status,
        "status_display": status.replace("_", " ").capitalize(),
        "position": position,
        "assignee": None,
        "assignee_name": None,
        "started": None,
        "due": None,
        "completed": None,
        "version": 1,
        "links": {},
    }


SAMPLE_TASKS = [sample_task(1), sample_task(2, "in_progress"), sample_task(3, sprint=None)]


@pytest.fixture(scope="session")
def seeded_board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, int]:
    """A migrated database with the demo data (made once per session) and the sprint's id."""
    from tests.peer_client.board_stack import seed_database

    return seed_database(tmp_path_factory.mktemp("board-seed"))


@pytest.fixture(scope="module")
def shared_board(
    seeded_board: tuple[Any, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One board and signaling for a module whose tests change nothing on the board."""
    from tests.peer_client.board_stack import BoardStack

    stack = BoardStack.start(*seeded_board, tmp_path_factory.mktemp("board"))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def board_stack(seeded_board: tuple[Any, int], tmp_path: Any) -> Iterator[Any]:
    """A fresh board (a copy of the seeded one) and signaling, for one test."""
    from tests.peer_client.board_stack import BoardStack

    stack = BoardStack.start(*seeded_board, tmp_path)
    try:
        yield stack
    finally:
        stack.stop()
