"""Drives the session core synchronously, the way the service does, and reads its decisions.

No sockets and no event loop: :class:`CoreDriver` answers the core's broker questions at once (as
the in-memory broker does) or holds them for a test to answer, and keeps what each session was
sent, so a test reads ``driver.messages(alice)`` instead of a socket.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from signaling import actions as act
from signaling.config import Settings
from signaling.core import SignalingCore
from signaling.session import Session
from tests.support.tickets import SECRET, ticket


def settings(**overrides: Any) -> Settings:
    return replace(Settings(secret=SECRET, heartbeat=0), **overrides)


class CoreDriver:
    """A core plus what it asked for: frames per session, closes, broker steps, log lines."""

    def __init__(self, core: SignalingCore | None = None, *, answer_broker: bool = True) -> None:
        numbers = itertools.count(1)
        self.core = core or SignalingCore(settings(), new_peer_id=lambda: f"p{next(numbers)}")
        self.answer_broker = answer_broker
        self.now = 1000.0
        # The core's clock starts at 1000; the wall clock is the real one (tickets are minted
        # with it), and moves with ``now`` from here on.
        self.core.set_wall_clock(time.time(), self.now)
        self.sent: dict[int, list[dict[str, Any]]] = {}
        self.closes: dict[int, tuple[int, str]] = {}
        self.aborted: set[int] = set()
        self.pinged: list[int] = []
        self.logs: list[act.Log] = []
        self.signal_logs: list[act.LogSignal] = []
        self.pending: list[act.EnterSprint | act.AnnounceJoin] = []
        self.broker: list[act.Action] = []  # leaves, publishes, frames for other instances

    # --- inputs -------------------------------------------------------------------------------

    def open(self, address: str = "10.0.0.1") -> Session:
        session, actions = self.core.open(address, self.now)
        self.run(actions)
        return session

    def send(self, session: Session, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        self.run(self.core.receive(session, text, self.now))

    def join(
        self, sprint: str = "1", user: str = "u1", name: str = "Ann", **fields: Any
    ) -> tuple[Session, dict[str, Any]]:
        """Open a session and join; return it and its welcome."""
        session = self.open(fields.pop("address", "10.0.0.1"))
        self.send(session, {"type": "join", "ticket": ticket(sprint, user, name), **fields})
        return session, self.welcome(session)

    def welcome(self, session: Session) -> dict[str, Any]:
        return next(m for m in self.messages(session) if m["type"] == "welcome")

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.run(self.core.tick(self.now))

    def close(self, session: Session, **kwargs: Any) -> None:
        self.run(self.core.closed(session, **kwargs))

    def answer(
        self, step: act.EnterSprint | act.AnnounceJoin, *, failure: str | None = None
    ) -> None:
        """Answer a held broker step (``failure``: the broker could not be reached)."""
        self.pending.remove(step)
        if failure is not None:
            self.run(self.core.broker_failed(step.session, failure))
        elif isinstance(step, act.EnterSprint):
            self.run(self.core.entered(step.session, ()))
        else:
            self.run(self.core.announced(step.session, 1_700_000_000.0))

    # --- running and reading the actions ------------------------------------------------------

    def run(self, actions: Sequence[act.Action]) -> None:
        for action in actions:
            self._run(action)

    def _run(self, action: act.Action) -> None:
        match action:
            case act.Send(session=session, payload=payload):
                self.sent.setdefault(session.number, []).append(json.loads(payload))
            case act.SendSignal(session=session, payload=payload):
                self.sent.setdefault(session.number, []).append(json.loads(payload))
                self.signal_logs.append(
                    act.LogSignal(
                        action.sprint,
                        action.sender,
                        action.to,
                        action.kind,
                        action.size,
                        action.candidates,
                    )
                )
            case act.SendToMany(sessions=sessions, payload=payload):
                for session in sessions:
                    self.sent.setdefault(session.number, []).append(json.loads(payload))
            case act.Close(session=session, code=code, reason=reason):
                assert session.number not in self.closes, "closed twice"
                self.closes[session.number] = (code, reason)
            case act.Abort(session=session):
                self.aborted.add(session.number)
            case act.SendPing(session=session):
                self.pinged.append(session.number)
            case act.Log():
                self.logs.append(action)
            case act.LogSignal():
                self.signal_logs.append(action)
            case act.EnterSprint() | act.AnnounceJoin():
                if self.answer_broker:
                    self.pending.append(action)
                    self.answer(action)
                else:
                    self.pending.append(action)
            case _:
                self.broker.append(action)

    def messages(self, session: Session) -> list[dict[str, Any]]:
        return self.sent.get(session.number, [])

    def take(self, session: Session) -> list[dict[str, Any]]:
        """What ``session`` was sent since the last take."""
        return self.sent.pop(session.number, [])

    def last(self, session: Session) -> dict[str, Any]:
        return self.messages(session)[-1]

    def closed_with(self, session: Session) -> int | None:
        entry = self.closes.get(session.number)
        return entry[0] if entry else None

    def refusals(self) -> list[str]:
        return [str(log.fields["reason"]) for log in self.logs if log.event == "refused"]
