"""``SignalingCore.receive`` takes a joined session's ``signal`` before consulting the table of
what each state accepts (``session.ACCEPTS``): in every state, its outcome is the table's."""

from __future__ import annotations

import copy
import itertools
import json

import pytest

from signaling import protocol
from signaling.core import SignalingCore
from signaling.session import ACCEPTS, CLOSED, CLOSING, CONNECTED, JOINED, JOINING, Session, State
from tests.signaling.core_driver import CoreDriver, settings, ticket

SIGNAL = {"description": {"type": "offer", "sdp": "v=0\r\na=candidate:1 1 udp 2 h 1 typ host\r\n"}}


def session_in(state: State) -> tuple[CoreDriver, Session]:
    """A core with one joined peer (``p1``) and a session of the same sprint in ``state``."""
    numbers = itertools.count(1)
    core = SignalingCore(settings(), new_peer_id=lambda: f"p{next(numbers)}")
    d = CoreDriver(core, answer_broker=False)

    def answer_all() -> None:
        while d.pending:
            d.answer(d.pending[0])

    target = d.open()
    d.send(target, {"type": "join", "ticket": ticket("1", "u1")})
    answer_all()
    session = d.open("10.0.0.2")
    if state is not CONNECTED:
        d.send(session, {"type": "join", "ticket": ticket("1", "u2")})
    if state in (JOINED, CLOSING, CLOSED):
        answer_all()
    if state is CLOSING:
        d.run(d.core.table.close(session, 4000, "closing"))
    if state is CLOSED:
        d.close(session)
    assert session.state is state
    d.take(target)
    d.take(session)
    d.logs.clear()
    return d, session


def outcome(d: CoreDriver, session: Session) -> object:
    """Everything the core decided and kept, as plain data."""
    return (
        {number: list(frames) for number, frames in d.sent.items()},
        dict(d.closes),
        [(log.event, log.fields) for log in d.logs],
        list(d.signal_logs),
        [repr(action) for action in d.broker],
        [repr(message) for message in session.backlog],
        session.state,
        dict(d.core.counters.messages),
    )


@pytest.mark.parametrize("state", list(State), ids=lambda state: state.value)
def test_a_signal_is_taken_as_the_table_says_in_every_state(state: State) -> None:
    text = json.dumps({"type": "signal", "to": "p1", "data": SIGNAL})
    fast, session = session_in(state)
    by_table = copy.deepcopy((fast, session))  # the same core, sessions and rooms, twice
    table, twin = by_table

    fast.run(fast.core.receive(session, text, fast.now))

    # What receive() does before its bypass, then the table's rule for the parsed message.
    if twin.state is not CLOSING and twin.state is not CLOSED:
        twin.last_seen = table.now
        assert twin.messages.allow(table.now)
        rule = ACCEPTS[twin.state].get(protocol.Signal)
        table.run(table.core._dispatch(twin, protocol.parse_client_message(text)))
        assert rule is not None  # every live state says something about a signal
    assert outcome(fast, session) == outcome(table, twin)


def test_the_outcomes_differ_by_state_as_the_table_says() -> None:
    """The comparison above is not vacuous: the four answers the table gives are all seen."""
    text = json.dumps({"type": "signal", "to": "p1", "data": SIGNAL})
    seen = {}
    for state in State:
        d, session = session_in(state)
        d.run(d.core.receive(session, text, d.now))
        seen[state] = (
            [m["type"] for frames in d.sent.values() for m in frames],
            len(session.backlog),
        )
    assert seen[CONNECTED] == (["error"], 0)
    assert seen[JOINING] == ([], 1)
    assert seen[JOINED] == (["signal"], 0)
    assert seen[CLOSING] == seen[CLOSED] == ([], 0)
