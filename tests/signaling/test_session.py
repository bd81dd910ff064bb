"""The session table: what each message does in each state, and that a refusal changes nothing."""

from __future__ import annotations

import copy
import json

import pytest

from signaling.errors import ProtocolError
from signaling.session import (
    ACCEPTS,
    CLOSED,
    CLOSING,
    CONNECTED,
    JOINED,
    JOINING,
    NEXT_STATES,
    Session,
    State,
)
from tests.signaling.core_driver import CoreDriver, ticket

MESSAGES = {
    "join": lambda: {"type": "join", "ticket": ticket("1", "u9")},
    "signal": lambda: {"type": "signal", "to": "p1", "data": {}},
    "relay": lambda: {"type": "relay", "to": "p1", "data": {}},
    "ping": lambda: {"type": "ping"},
    "linkreport": lambda: {"type": "link", "peer": "p1", "outcome": "open", "path": "host/host"},
}


def session_in(driver: CoreDriver, state: State) -> tuple[Session, Session]:
    """A session brought to ``state`` the way clients bring it there, and p1, a joined peer."""
    first, _ = driver.join("1", "u1")
    driver.take(first)
    if state is CONNECTED:
        return driver.open(), first
    driver.answer_broker = state is not JOINING
    session = driver.open()
    driver.send(session, {"type": "join", "ticket": ticket("1", "u2")})
    if state is CLOSING:
        driver.run(driver.core.transport_failed(session, 1002, "test"))
    elif state is CLOSED:
        driver.close(session)
    assert session.state is state
    driver.take(first)
    return session, first


def snapshot(driver: CoreDriver) -> object:
    core = driver.core
    return (
        sorted((m.peer, m.sprint, m.connection) for m in core.rooms),
        sorted(core.sessions),
        sorted(core.table.by_peer),
        dict(core.table.unjoined),
    )


def test_every_state_has_a_row_and_moves_only_as_drawn() -> None:
    assert set(ACCEPTS) == set(State) == set(NEXT_STATES)
    assert NEXT_STATES[CLOSED] == frozenset()
    session = Session(1, "a", 0.0, messages=None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="connected -> joined"):
        session.move(JOINED)
    session.move(JOINING)
    session.move(JOINED)
    session.move(CLOSING)
    with pytest.raises(RuntimeError):
        session.move(JOINED)


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
@pytest.mark.parametrize("kind", list(MESSAGES))
def test_each_message_does_what_the_table_says_in_each_state(state: State, kind: str) -> None:
    driver = CoreDriver()
    session, first = session_in(driver, state)
    driver.take(session)
    rule = next(
        (value for cls, value in ACCEPTS[state].items() if cls.__name__.lower() == kind), None
    )
    before = snapshot(driver)
    driver.send(session, json.dumps(MESSAGES[kind]()))
    sent = driver.take(session)
    if rule is None:  # closing, closed: ignored
        assert sent == []
        assert snapshot(driver) == before
    elif isinstance(rule, ProtocolError):  # refused: an error, and nothing else changed
        assert [m.get("code") for m in sent] == [rule.code]
        assert snapshot(driver) == before
        assert session.state is state
    elif rule == "queue":
        assert sent == []
        assert len(session.backlog) == 1
    elif rule == "join":
        assert [m["type"] for m in sent] == ["welcome"]
        assert session.state is JOINED
    elif rule == "pong":
        assert sent == [{"type": "pong"}]
    elif rule == "link":
        assert sent == []  # logged and counted, nobody is told
        assert [log.event for log in driver.logs][-1] == "link"
    else:
        assert rule in ("signal", "relay")
        assert [m["type"] for m in driver.take(first)] == [rule]


def test_a_malformed_message_in_any_live_state_changes_nothing() -> None:
    for state in (CONNECTED, JOINED):
        driver = CoreDriver()
        session, _ = session_in(driver, state)
        driver.take(session)
        before = copy.deepcopy(snapshot(driver))
        driver.send(session, '{"type":"signal","to":"","data":{}}')
        assert [m["code"] for m in driver.take(session)] == ["bad-message"]
        assert snapshot(driver) == before
