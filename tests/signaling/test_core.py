"""The session core, driven synchronously: every rule of docs/protocol.md section 1, no sockets."""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt
import pytest

from signaling import actions as act
from signaling.core import SignalingCore
from signaling.rooms import Member
from signaling.session import CLOSING, CONNECTED, JOINED, JOINING
from signaling.tickets import TICKET_AUDIENCE
from tests.signaling.core_driver import SECRET, CoreDriver, settings, ticket

SIGNAL = {"description": {"type": "offer", "sdp": "v=0\r\na=candidate:1 1 udp 2 h 1 typ host\r\n"}}


def driver(**overrides: object) -> CoreDriver:
    numbers = iter(range(1, 10_000))
    core = SignalingCore(settings(**overrides), new_peer_id=lambda: f"p{next(numbers)}")
    return CoreDriver(core)


# --- joining ---------------------------------------------------------------------------------


def test_a_join_is_welcomed_and_the_others_are_told() -> None:
    d = driver()
    alice, welcome_a = d.join("7", "u1", "Alice")
    assert welcome_a["peer"] == "p1"
    assert welcome_a["sprint"] == "7"
    assert welcome_a["peers"] == []
    assert welcome_a["iceServers"] == []
    assert welcome_a["resume"].startswith("p1.")
    bob, welcome_b = d.join("7", "u2", "Bob")
    assert welcome_b["peers"] == [{"peer": "p1", "user": {"id": "u1", "name": "Alice"}}]
    assert d.last(alice) == {
        "type": "peer-joined",
        "peer": welcome_b["peer"],
        "user": {"id": "u2", "name": "Bob"},
    }
    assert alice.state is JOINED
    assert bob.state is JOINED
    assert [log.event for log in d.logs] == ["join", "join"]


def test_anything_before_join_is_answered_not_joined_and_the_connection_stays() -> None:
    d = driver()
    session = d.open()
    d.send(session, {"type": "signal", "to": "p9", "data": {}})
    d.send(session, {"type": "relay", "to": "p9", "data": {}})
    assert [m["code"] for m in d.take(session)] == ["not-joined", "not-joined"]
    d.send(session, {"type": "ping"})
    assert d.take(session) == [{"type": "pong"}]
    d.send(session, {"type": "join", "ticket": ticket()})
    assert d.take(session)[0]["type"] == "welcome"


def test_no_join_within_the_timeout_closes_with_4408_and_pings_do_not_extend_it() -> None:
    d = driver(join_timeout=5.0)
    silent = d.open()
    d.advance(4.0)
    d.send(silent, {"type": "ping"})
    assert d.closed_with(silent) is None
    joined, _ = d.join()
    d.advance(1.0)
    assert d.closes[silent.number] == (4408, "no join within 5 s")
    assert d.closed_with(joined) is None
    assert "no-join" in d.refusals()


def test_the_core_says_when_it_next_needs_a_tick() -> None:
    d = driver(join_timeout=5.0, heartbeat=20.0)
    d.core.start(d.now)
    assert d.core.next_wakeup() == d.now + 10.0  # the first heartbeat sweep
    d.open()
    assert d.core.next_wakeup() == d.now + 5.0  # the join deadline comes first


def test_a_second_join_is_refused_as_already_joined_and_changes_nothing() -> None:
    d = driver()
    alice, _welcome = d.join("1", "u1")
    d.take(alice)
    d.send(alice, {"type": "join", "ticket": ticket("2", "u1")})
    assert [m["code"] for m in d.take(alice)] == ["already-joined"]
    assert alice.member is not None
    assert alice.member.sprint == "1"
    assert d.core.rooms.room_count == 1


def _token(claims: dict[str, object], key: str = SECRET) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


GOOD = {"sprint": "1", "sub": "u", "name": "n", "aud": TICKET_AUDIENCE}


@pytest.mark.parametrize(
    ("join", "reason"),
    [
        (lambda: {"type": "join"}, "ticket missing"),
        (lambda: {"type": "join", "ticket": None}, "ticket missing"),
        (lambda: {"type": "join", "ticket": ""}, "ticket is empty"),
        (lambda: {"type": "join", "ticket": 7}, "ticket must be a string, got a number"),
        (lambda: {"type": "join", "ticket": {"t": 1}}, "ticket must be a string, got an object"),
        (lambda: {"type": "join", "ticket": "x" * 8193}, "longer than 8192 characters"),
        (lambda: {"type": "join", "ticket": "not.a.jwt"}, "not a well-formed JWT"),
        (
            lambda: {
                "type": "join",
                "ticket": _token({**GOOD, "exp": time.time() + 60}, "other-" * 8),
            },
            "signature does not verify",
        ),
        (lambda: {"type": "join", "ticket": _token({**GOOD, "exp": 1})}, "ticket expired"),
        (
            lambda: {
                "type": "join",
                "ticket": _token({**GOOD, "aud": "x", "exp": time.time() + 60}),
            },
            "another audience",
        ),
        (
            lambda: {"type": "join", "ticket": _token({**GOOD, "exp": str(int(time.time()) + 60)})},
            '"exp" must be a number',
        ),
        (lambda: {"type": "join", "ticket": _token(GOOD)}, 'no "exp" claim'),
        (
            lambda: {
                "type": "join",
                "ticket": _token({**GOOD, "sprint": 1, "exp": time.time() + 60}),
            },
            '"sprint" must be a non-empty string',
        ),
    ],
    ids=[
        "no-field",
        "null",
        "empty",
        "number",
        "object",
        "over-long",
        "garbage",
        "wrong-key",
        "expired",
        "audience",
        "exp-string",
        "no-exp",
        "sprint-number",
    ],
)
def test_every_ticket_fault_closes_with_4401_naming_it(
    join: Callable[[], dict[str, object]], reason: str
) -> None:
    """(Each join is made when its test runs: a ticket made at collection could expire first.)"""
    d = driver()
    session = d.open()
    d.send(session, join())
    code, close_reason = d.closes[session.number]
    assert code == 4401
    assert reason in close_reason
    assert d.core.rooms.peer_count == 0
    assert session.state is CLOSING


def test_frames_sent_while_joining_are_handled_in_order_after_the_welcome() -> None:
    d = driver()
    alice, welcome_a = d.join("1", "u1")
    d.answer_broker = False
    bob = d.open()
    d.send(bob, {"type": "join", "ticket": ticket("1", "u2")})
    d.send(bob, {"type": "signal", "to": welcome_a["peer"], "data": {"n": 1}})
    d.send(bob, {"type": "ping"})
    d.send(bob, {"type": "signal", "to": welcome_a["peer"], "data": {"n": 2}})
    assert bob.state is JOINING
    assert d.messages(bob) == []
    d.answer(d.pending[0])
    d.answer(d.pending[0])
    assert [m["type"] for m in d.take(bob)] == ["welcome", "pong"]
    signals = [m for m in d.take(alice) if m["type"] == "signal"]
    assert [m["data"]["n"] for m in signals] == [1, 2]


def test_a_socket_gone_while_the_broker_answers_never_joins() -> None:
    d = driver()
    d.answer_broker = False
    alice, _ = d.open(), None
    d.send(alice, {"type": "join", "ticket": ticket()})
    d.close(alice)
    d.answer(d.pending[0])  # the sprint's members arrive after the socket went
    assert d.pending == []
    assert d.core.rooms.peer_count == 0


def test_a_socket_gone_while_its_join_is_announced_leaves_as_usual() -> None:
    d = driver()
    alice, _ = d.join("1", "u1")
    d.take(alice)
    d.answer_broker = False
    bob = d.open()
    d.send(bob, {"type": "join", "ticket": ticket("1", "u2")})
    d.answer(d.pending[0])  # entered: bob is in the room
    d.close(bob)  # ... and gone before the broker confirmed the announcement
    d.answer(d.pending[0])
    assert d.core.rooms.peer_count == 1
    # Others may have seen bob in a welcome meanwhile: everyone is told it left.
    assert d.take(alice) == [{"type": "peer-left", "peer": "p2"}]
    assert any(isinstance(a, act.AnnounceLeave) for a in d.broker)


@pytest.mark.parametrize("step", [0, 1], ids=["entering", "announcing"])
def test_a_broker_failure_refuses_the_join_with_1013_and_changes_nothing(step: int) -> None:
    d = driver()
    d.answer_broker = False
    session = d.open()
    d.send(session, {"type": "join", "ticket": ticket()})
    if step == 1:
        d.answer(d.pending[0])
    d.answer(d.pending[0], failure="broker (Redis) unavailable: try again in a few seconds")
    assert d.closes[session.number] == (
        1013,
        "broker (Redis) unavailable: try again in a few seconds",
    )
    assert d.core.rooms.peer_count == 0
    assert "broker-unavailable" in d.refusals()


# --- limits ----------------------------------------------------------------------------------


def test_a_full_sprint_closes_with_4409_and_the_room_is_unchanged() -> None:
    d = driver(max_peers_per_sprint=2)
    d.join("1", "u1")
    d.join("1", "u2")
    third = d.open()
    d.send(third, {"type": "join", "ticket": ticket("1", "u3")})
    assert d.closes[third.number] == (4409, "sprint room is full (2 peers)")
    assert d.core.rooms.peer_count == 2


def test_one_user_cannot_fill_a_sprint() -> None:
    d = driver(max_peers_per_user=3)
    for _ in range(3):
        d.join("1", "same-user")
    extra = d.open()
    d.send(extra, {"type": "join", "ticket": ticket("1", "same-user")})
    code, reason = d.closes[extra.number]
    assert code == 4409
    assert "already has 3 peers" in reason
    _other, welcome = d.join("1", "someone-else")
    assert len(welcome["peers"]) == 3
    assert "user-full" in d.refusals()


def test_the_connection_limit_closes_with_4409() -> None:
    d = driver(max_connections=2)
    d.join("1", "u1")
    d.open()
    third = d.open("10.0.0.9")
    assert d.closes[third.number] == (4409, "server is at its limit of 2 connections")
    assert len(d.core.sessions) == 2


def test_sockets_that_never_join_cannot_lock_out_other_addresses() -> None:
    d = driver(max_unjoined_per_address=3, max_connections=100)
    silent = [d.open("10.6.6.6") for _ in range(3)]
    refused = d.open("10.6.6.6")
    code, reason = d.closes[refused.number]
    assert code == 4409
    assert "have not joined yet" in reason
    assert all(d.closed_with(s) is None for s in silent)
    _real, welcome = d.join(address="10.0.0.1")
    assert welcome["type"] == "welcome"
    # Joined sockets of an address do not count against it: three more may still wait there.
    for n in range(5):
        d.join(user=f"office-{n}", address="10.7.7.7")
    waiting = [d.open("10.7.7.7") for _ in range(3)]
    assert all(d.closed_with(s) is None for s in waiting)
    assert d.closed_with(d.open("10.7.7.7")) == 4409
    # A silent socket that is closed frees its place.
    d.close(silent[0])
    assert d.closed_with(d.open("10.6.6.6")) is None


def test_a_flood_closes_with_4429() -> None:
    d = driver(rate=1.0, burst=5)
    alice, _ = d.join()
    for _ in range(10):
        d.send(alice, {"type": "ping"})
    code, reason = d.closes[alice.number]
    assert code == 4429
    assert "rate limit exceeded" in reason
    assert len([m for m in d.messages(alice) if m["type"] == "pong"]) == 4  # join took a token


def test_repeated_invalid_messages_close_with_4400() -> None:
    d = driver(invalid_burst=3, invalid_rate=0.01)
    alice, _ = d.join()
    for _ in range(3):
        d.send(alice, "not json")
    assert d.closed_with(alice) is None
    d.send(alice, "not json")
    assert d.closes[alice.number] == (4400, "too many invalid messages")
    assert [m["code"] for m in d.messages(alice) if m["type"] == "error"] == ["bad-json"] * 4


def test_binary_frames_get_an_error_and_the_connection_stays() -> None:
    d = driver()
    alice, _ = d.join()
    d.take(alice)
    d.run(d.core.receive_binary(alice, d.now))
    assert [m["code"] for m in d.take(alice)] == ["binary-not-supported"]
    d.send(alice, {"type": "ping"})
    assert d.take(alice) == [{"type": "pong"}]


# --- relaying --------------------------------------------------------------------------------


def test_signals_reach_their_peer_with_from_set_by_the_server_in_order() -> None:
    d = driver()
    alice, wa = d.join("1", "u1")
    bob, wb = d.join("1", "u2")
    d.take(alice)
    for n in range(3):
        d.send(bob, {"type": "signal", "to": wa["peer"], "from": "forged", "data": {"n": n}})
    assert d.take(alice) == [
        {"type": "signal", "from": wb["peer"], "data": {"n": n}} for n in range(3)
    ]
    assert [log.kind for log in d.signal_logs] == ["other"] * 3
    d.send(bob, {"type": "signal", "to": wa["peer"], "data": SIGNAL})
    assert (d.signal_logs[-1].kind, d.signal_logs[-1].candidates) == ("offer", "host")


def test_unknown_self_addressed_and_other_sprint_peers_are_refused() -> None:
    d = driver()
    alice, wa = d.join("1", "u1")
    carol, wc = d.join("2", "u3")
    d.take(alice)
    d.take(carol)
    d.send(alice, {"type": "signal", "to": wc["peer"], "data": {}})
    d.send(alice, {"type": "signal", "to": "nobody", "data": {}})
    d.send(alice, {"type": "signal", "to": wa["peer"], "data": {}})
    assert [m["code"] for m in d.take(alice)] == ["unknown-peer", "unknown-peer", "self-addressed"]
    assert d.take(carol) == []


def test_relays_are_delivered_within_their_own_limit() -> None:
    d = driver(relay_rate=1.0, relay_burst=2)
    alice, wa = d.join("1", "u1")
    bob, wb = d.join("1", "u2")
    d.take(alice)
    d.take(bob)
    for n in range(3):
        d.send(bob, {"type": "relay", "to": wa["peer"], "data": {"n": n}})
    assert d.take(alice) == [
        {"type": "relay", "from": wb["peer"], "data": {"n": n}} for n in (0, 1)
    ]
    assert [m["code"] for m in d.take(bob)] == ["rate-limited"]
    assert d.closed_with(bob) is None


def test_a_frame_for_a_peer_on_another_instance_goes_to_the_broker() -> None:
    d = driver()
    alice, wa = d.join("1", "u1")
    remote = Member("r1", "1", "u9", "Remote", 1, "other-instance")
    d.run(d.core.news.remote_joined(remote))
    assert d.take(alice)[-1] == {
        "type": "peer-joined",
        "peer": "r1",
        "user": {"id": "u9", "name": "Remote"},
    }
    d.send(alice, {"type": "signal", "to": "r1", "data": {"n": 1}})
    elsewhere = [a for a in d.broker if isinstance(a, act.SendElsewhere)]
    assert elsewhere == [act.SendElsewhere(wa["peer"], remote, elsewhere[0].text)]
    d.run(d.core.undeliverable(wa["peer"]))
    assert d.take(alice)[-1]["code"] == "unavailable"


# --- resume ----------------------------------------------------------------------------------


def test_resume_keeps_the_peer_id_replaces_the_old_socket_with_4000_and_nobody_sees_a_leave() -> (
    None
):
    d = driver()
    alice, wa = d.join("1", "u1")
    bob, _ = d.join("1", "u2")
    d.take(bob)
    again = d.open()
    d.send(again, {"type": "join", "ticket": ticket("1", "u1"), "resume": wa["resume"]})
    assert d.welcome(again)["peer"] == wa["peer"]
    assert d.closes[alice.number][0] == 4000
    d.close(alice, close_code=4000)
    assert d.take(bob) == []
    assert d.logs[-1].event == "resume"


def test_a_peer_that_resumed_on_another_instance_is_retired_and_its_room_let_go() -> None:
    d = driver()
    alice, wa = d.join("1", "u1")
    bob, wb = d.join("1", "u2")
    here = d.core.rooms.member(wa["peer"])
    assert here is not None
    d.run(d.core.news.remote_joined(Member(wa["peer"], "1", "u1", "u1", 7, "other")))
    assert d.closes[alice.number][0] == 4000
    assert d.broker == [act.MovedAway(here, last_in_sprint=False)]  # bob is still here
    d.close(alice, close_code=4000)
    assert d.broker == [act.MovedAway(here, last_in_sprint=False)]  # no leave: it never left
    assert d.core.rooms.room_count == 1
    d.broker.clear()
    last = d.core.rooms.member(wb["peer"])
    assert last is not None
    d.run(d.core.news.remote_joined(Member(wb["peer"], "1", "u2", "u2", 8, "other")))
    assert d.broker == [act.MovedAway(last, last_in_sprint=True)]
    d.close(bob, close_code=4000)
    assert d.core.rooms.room_count == 0
    assert d.core.rooms.member(wa["peer"]) is None


def test_a_resume_token_of_another_user_or_sprint_gives_a_new_id() -> None:
    d = driver()
    alice, wa = d.join("1", "u1")
    _thief, welcome = d.join("1", "u2", resume=wa["resume"])
    assert welcome["peer"] != wa["peer"]
    assert d.closed_with(alice) is None
    assert "resume-refused" in [log.event for log in d.logs]


# --- leaving, heartbeats, shutdown -----------------------------------------------------------


def test_a_closed_socket_is_a_leave_told_to_the_sprint() -> None:
    d = driver()
    alice, _wa = d.join("1", "u1")
    bob, wb = d.join("1", "u2")
    d.take(alice)
    d.close(bob, close_code=1000)
    assert d.take(alice) == [{"type": "peer-left", "peer": wb["peer"]}]
    leave = d.logs[-1]
    assert (leave.event, leave.fields["reason"]) == ("leave", "closed (1000)")
    d.close(bob)  # twice is harmless
    assert d.take(alice) == []


def test_quiet_sockets_are_pinged_and_dropped_when_they_do_not_answer() -> None:
    d = driver(heartbeat=20.0)
    d.core.start(d.now)
    quiet, _ = d.join("1", "u1")
    busy, _wb = d.join("1", "u2")
    answering, _ = d.join("1", "u3")
    for _ in range(2):
        d.advance(10.0)
        d.send(busy, {"type": "ping"})
    assert quiet.number in d.pinged
    assert answering.number in d.pinged
    assert busy.number not in d.pinged
    d.core.seen(answering, d.now)  # its pong
    d.advance(10.0)
    assert d.aborted == {quiet.number}
    d.close(quiet)
    assert d.logs[-1].fields["reason"] == "heartbeat lost (no pong)"


def test_shutdown_closes_everyone_with_1001_and_tells_no_leaves() -> None:
    d = driver()
    alice, _ = d.join("1", "u1")
    bob, _ = d.join("1", "u2")
    d.take(alice)
    d.run(d.core.shutdown(uptime=12.0))
    assert {d.closed_with(alice), d.closed_with(bob)} == {1001}
    d.close(bob)
    assert d.take(alice) == []
    fresh = d.open()
    assert d.closed_with(fresh) == 1001


# --- board events ----------------------------------------------------------------------------


def test_a_board_event_goes_to_its_sprint_only_and_to_the_other_instances() -> None:
    d = driver()
    alice, _ = d.join("1", "u1")
    carol, _ = d.join("2", "u3")
    d.take(alice)
    d.take(carol)
    event = {"model": "task", "action": "updated", "task": {"id": 3, "version": 4}}
    actions, local = d.core.news.hook_event("1", event)
    d.run(actions)
    assert local == 1
    assert d.take(alice) == [{"type": "event", "event": event}]
    assert d.take(carol) == []
    assert [type(a) for a in d.broker] == [act.PublishToSprint]


def test_a_closing_session_handles_nothing_more() -> None:
    d = driver()
    alice, _ = d.join()
    d.take(alice)
    d.run(d.core.transport_failed(alice, 1002, "client frames must be masked"))
    d.send(alice, {"type": "ping"})
    assert d.take(alice) == []
    assert "socket-error" in d.refusals()
    assert alice.state is CLOSING
    assert CONNECTED is not alice.state


@pytest.mark.parametrize("kind", ["signal", "relay"])
def test_data_nested_too_deeply_to_send_on_is_refused_and_the_sender_stays(kind: str) -> None:
    """JSON parses to more levels than it can be encoded with: such data is the sender's
    bad message (an ``error`` naming it), never an internal error that closes the sender."""
    d = driver()
    alice, wa = d.join("1", "u1")
    bob, _ = d.join("1", "u2")
    d.take(alice)
    deep = "[" * 300 + "]" * 300
    d.take(bob)  # what bob was told of alice
    d.send(bob, f'{{"type":"{kind}","to":"{wa["peer"]}","data":{{"x":{deep}}}}}')
    (answer,) = d.take(bob)
    assert (answer["type"], answer["code"]) == ("error", "bad-message")
    assert "cannot be sent on" in answer["message"]
    assert d.take(alice) == []
    assert d.closed_with(bob) is None
    d.send(bob, {"type": kind, "to": wa["peer"], "data": {"n": 1}})
    assert d.take(alice)[0]["data"] == {"n": 1}
