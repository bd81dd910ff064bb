"""The signaling server over real websockets: joins, relay, isolation, refusals, limits."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp
import jwt
import pytest

from signaling.tickets import TICKET_AUDIENCE
from tests.signaling.conftest import (
    SECRET,
    WAIT,
    Harness,
    HarnessFactory,
    expect_nothing_pending,
    receive_close,
    receive_close_with_reason,
    receive_json,
    receive_type,
    ticket,
)

OFFER = {
    "description": {
        "type": "offer",
        "sdp": "v=0\r\na=candidate:1 1 udp 2 127.0.0.1 5000 typ host\r\n",
    }
}
ANSWER = {"description": {"type": "answer", "sdp": "v=0\r\n"}}
CANDIDATE = {
    "candidate": {
        "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
}


async def test_two_peers_of_a_sprint_negotiate(harness: Harness) -> None:
    alice, welcome_a = await harness.join("7", "u1", "Alice")
    assert welcome_a["sprint"] == "7"
    assert welcome_a["peers"] == []
    assert welcome_a["iceServers"] == []
    bob, welcome_b = await harness.join("7", "u2", "Bob")
    assert welcome_b["peers"] == [
        {"peer": welcome_a["peer"], "user": {"id": "u1", "name": "Alice"}}
    ]
    joined = await receive_type(alice, "peer-joined")
    assert joined == {
        "type": "peer-joined",
        "peer": welcome_b["peer"],
        "user": {"id": "u2", "name": "Bob"},
    }

    # The newcomer offers, then trickles; the other answers. Order is kept.
    await bob.send_json({"type": "signal", "to": welcome_a["peer"], "data": OFFER})
    await bob.send_json({"type": "signal", "to": welcome_a["peer"], "data": CANDIDATE})
    await bob.send_json({"type": "signal", "to": welcome_a["peer"], "data": {"candidate": None}})
    assert await receive_type(alice, "signal") == {
        "type": "signal",
        "from": welcome_b["peer"],
        "data": OFFER,
    }
    assert (await receive_type(alice, "signal"))["data"] == CANDIDATE
    assert (await receive_type(alice, "signal"))["data"] == {"candidate": None}
    await alice.send_json({"type": "signal", "to": welcome_b["peer"], "data": ANSWER})
    answer = await receive_type(bob, "signal")
    assert answer["from"] == welcome_a["peer"]
    assert answer["data"] == ANSWER


async def test_peer_ids_are_assigned_by_the_server_and_unguessable(harness: Harness) -> None:
    ids = set()
    for n in range(20):
        _, welcome = await harness.join("1", f"u{n}", "X")
        ids.add(welcome["peer"])
    assert len(ids) == 20
    assert all(len(peer) >= 16 for peer in ids)


async def test_from_cannot_be_forged(harness: Harness) -> None:
    alice, wa = await harness.join("1", "u1")
    bob, wb = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    await bob.send_json({"type": "signal", "to": wa["peer"], "from": "someone-else", "data": {}})
    assert (await receive_type(alice, "signal"))["from"] == wb["peer"]


async def test_other_sprints_can_neither_see_nor_reach(harness: Harness) -> None:
    alice, wa = await harness.join("1", "u1")
    bob, wb = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    mallory, wm = await harness.join("2", "u3", "Mallory")
    assert wm["peers"] == []
    await expect_nothing_pending(alice)
    await expect_nothing_pending(bob)
    for target in (wa["peer"], wb["peer"]):
        await mallory.send_json({"type": "signal", "to": target, "data": OFFER})
        error = await receive_type(mallory, "error")
        assert error["code"] == "unknown-peer"
        await mallory.send_json({"type": "relay", "to": target, "data": {"x": 1}})
        assert (await receive_type(mallory, "error"))["code"] == "unknown-peer"
    await expect_nothing_pending(alice)
    await expect_nothing_pending(bob)
    # The refusal reads the same for a real id of another sprint and for an id that never existed.
    await mallory.send_json({"type": "signal", "to": "does-not-exist", "data": OFFER})
    other = await receive_type(mallory, "error")
    assert other["code"] == error["code"]
    # When mallory leaves, sprint 1 hears nothing.
    await mallory.close()
    await harness.wait_for_connections(2)
    await expect_nothing_pending(alice)


async def test_peer_cannot_address_itself(harness: Harness) -> None:
    alice, wa = await harness.join()
    await alice.send_json({"type": "signal", "to": wa["peer"], "data": {}})
    assert (await receive_type(alice, "error"))["code"] == "self-addressed"


@pytest.mark.parametrize(
    ("make_ticket", "reason"),
    [
        (lambda: None, "ticket missing"),
        (lambda: "not-a-jwt", "not a well-formed JWT"),
        (lambda: ticket().rsplit(".", 1)[0] + ".AAAA", "signature"),
        (
            lambda: jwt.encode(
                {"sprint": "1", "sub": "u", "name": "n", "aud": TICKET_AUDIENCE, "exp": 1},
                SECRET,
            ),
            "expired",
        ),
        (
            lambda: jwt.encode(
                {
                    "sprint": "1",
                    "sub": "u",
                    "name": "n",
                    "aud": "watercooler/hook",
                    "exp": time.time() + 60,
                },
                SECRET,
            ),
            "another audience",
        ),
        (
            lambda: jwt.encode(
                {
                    "sprint": "1",
                    "sub": "u",
                    "name": "n",
                    "aud": TICKET_AUDIENCE,
                    "exp": time.time() + 60,
                },
                "some-other-secret-of-enough-length",
            ),
            "signature",
        ),
        (
            lambda: jwt.encode(
                {
                    "sprint": 1,
                    "sub": "u",
                    "name": "n",
                    "aud": TICKET_AUDIENCE,
                    "exp": time.time() + 60,
                },
                SECRET,
            ),
            '"sprint" must be a non-empty string',
        ),
        (
            lambda: jwt.encode(
                {"sprint": "1", "sub": "u", "aud": TICKET_AUDIENCE, "exp": time.time() + 60},
                SECRET,
            ),
            'no "name" claim',
        ),
        (
            lambda: jwt.encode(
                {"sprint": "1", "sub": "u", "name": "n", "aud": TICKET_AUDIENCE}, SECRET
            ),
            'no "exp" claim',
        ),
        (
            lambda: jwt.encode(
                {
                    "sprint": "1",
                    "sub": "u",
                    "name": "n",
                    "aud": TICKET_AUDIENCE,
                    "exp": str(int(time.time()) + 60),
                },
                SECRET,
            ),
            '"exp" must be a number',
        ),
    ],
    ids=[
        "missing",
        "garbage",
        "bad-signature",
        "expired",
        "wrong-audience",
        "wrong-secret",
        "sprint-not-string",
        "no-name",
        "no-exp",
        "exp-a-string",
    ],
)
async def test_ticket_faults_close_with_4401(harness: Harness, make_ticket, reason: str) -> None:
    ws = await harness.connect()
    token = make_ticket()
    message = {"type": "join"} if token is None else {"type": "join", "ticket": token}
    await ws.send_json(message)
    code, close_reason = await receive_close_with_reason(ws)
    assert code == 4401
    assert reason in close_reason


async def test_ticket_refusal_reason_is_sent_in_the_close_frame(harness: Harness) -> None:
    ws = await harness.connect()
    expired = jwt.encode(
        {"sprint": "1", "sub": "u", "name": "n", "aud": TICKET_AUDIENCE, "exp": 1}, SECRET
    )
    await ws.send_json({"type": "join", "ticket": expired})
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert msg.data == 4401
    assert msg.extra == "ticket expired"


async def test_no_join_in_time_closes_with_4408(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(join_timeout=0.3)
    ws = await harness.connect()
    assert await receive_close(ws) == 4408


async def test_pings_before_join_do_not_extend_the_join_deadline(
    harness_factory: HarnessFactory,
) -> None:
    """A socket that pings (and sends what needs a join) every 0.1 s, for up to ten join timeouts,
    is still closed with 4408 while it keeps pinging."""
    harness = await harness_factory(join_timeout=0.5)
    ws = await harness.connect()
    await ws.send_json({"type": "signal", "to": "x", "data": {}})
    assert (await receive_type(ws, "error"))["code"] == "not-joined"
    for _ in range(50):
        with contextlib.suppress(ConnectionError):  # closed since the last pong: read the close
            await ws.send_json({"type": "ping"})
        message = await ws.receive(timeout=WAIT)
        if message.type is aiohttp.WSMsgType.CLOSE:
            assert message.data == 4408
            return
        assert message.json() == {"type": "pong"}
        await asyncio.sleep(0.1)  # the pace of the pings, not a wait for anything
    pytest.fail("pinging every 0.1 s kept an unjoined socket open for ten join timeouts")


async def test_disallowed_origin_gets_403(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(allowed_origins=("http://board.example",))
    with pytest.raises(aiohttp.WSServerHandshakeError) as raised:
        await harness.connect(headers={"Origin": "http://evil.example"})
    assert raised.value.status == 403
    ws, _ = await harness.join(headers={"Origin": "http://board.example"})
    assert not ws.closed


async def test_without_allowlist_browsers_are_refused_unless_debug(
    harness_factory: HarnessFactory,
) -> None:
    strict = await harness_factory()
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await strict.connect(headers={"Origin": "http://127.0.0.1:8000"})
    debug = await harness_factory(debug=True)
    await debug.join(headers={"Origin": "http://127.0.0.1:8000"})


async def test_oversized_frame_closes_with_1009(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(max_frame_bytes=1024)
    alice, wa = await harness.join("1", "u1")
    bob, _ = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    await bob.send_str(
        '{"type":"signal","to":"' + wa["peer"] + '","data":{"x":"' + "a" * 2000 + '"}}'
    )
    assert await receive_close(bob) == 1009
    # Nothing of it reached alice; she is told bob left, and keeps being served.
    assert await receive_type(alice, "peer-left") == {
        "type": "peer-left",
        "peer": _peer_of(harness, bob),
    }
    await alice.send_json({"type": "ping"})
    await receive_type(alice, "pong")


def _peer_of(harness: Harness, ws: aiohttp.ClientWebSocketResponse) -> str:
    # The harness's record of which peer id a socket got (kept from its welcome).
    return harness.last_peer[id(ws)]


async def test_flood_closes_with_4429_and_others_keep_working(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(rate=5.0, burst=10)
    alice, _wa = await harness.join("1", "u1")
    flooder, _ = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    for _ in range(40):
        await flooder.send_json({"type": "ping"})
    code = await receive_close(flooder)
    assert code == 4429
    await receive_type(alice, "peer-left")
    await alice.send_json({"type": "ping"})
    await receive_type(alice, "pong")


async def test_room_full_closes_with_4409(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(max_peers_per_sprint=2)
    await harness.join("1", "u1")
    await harness.join("1", "u2")
    ws = await harness.connect()
    await ws.send_json({"type": "join", "ticket": ticket("1", "u3")})
    assert await receive_close(ws) == 4409
    # Another sprint still has room.
    await harness.join("2", "u3")


async def test_one_user_cannot_fill_a_sprints_room(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(max_peers_per_user=3)
    for _ in range(3):
        await harness.join("1", "same-user")
    extra = await harness.connect()
    await extra.send_json({"type": "join", "ticket": ticket("1", "same-user")})
    code, reason = await receive_close_with_reason(extra)
    assert code == 4409
    assert "already has 3 peers" in reason
    _, welcome = await harness.join("1", "someone-else")
    assert len(welcome["peers"]) == 3


async def test_connection_limit_closes_with_4409(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(max_connections=2)
    await harness.join("1", "u1")
    await harness.join("2", "u2")
    ws = await harness.connect()
    assert await receive_close(ws) == 4409


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad-json"),
        ("[1,2]", "bad-message"),
        ('"join"', "bad-message"),
        ("{}", "bad-message"),
        ('{"type":42}', "bad-message"),
        ('{"type":"dance"}', "unknown-type"),
        ('{"type":"signal","data":{}}', "bad-message"),
        ('{"type":"signal","to":5,"data":{}}', "bad-message"),
        ('{"type":"signal","to":"x","data":"sdp"}', "bad-message"),
        ('{"type":"signal","to":"x"}', "bad-message"),
        ('{"type":"join","ticket":"t"}', "already-joined"),
        ('{"type":"signal","to":"nobody","data":{}}', "unknown-peer"),
    ],
)
async def test_malformed_messages_get_an_error_and_the_connection_stays(
    harness: Harness, frame: str, code: str
) -> None:
    alice, _ = await harness.join()
    await alice.send_str(frame)
    error = await receive_type(alice, "error")
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert len(error["message"]) > 5
    await alice.send_json({"type": "ping"})
    await receive_type(alice, "pong")


async def test_binary_frames_are_refused_with_an_error(harness: Harness) -> None:
    alice, _ = await harness.join()
    await alice.send_bytes(b"\x00\x01")
    assert (await receive_type(alice, "error"))["code"] == "binary-not-supported"
    await alice.send_json({"type": "ping"})
    await receive_type(alice, "pong")


async def test_repeated_abuse_closes_the_connection(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(invalid_burst=5)
    alice, _ = await harness.join()
    for _ in range(10):
        await alice.send_str("{not json")
    errors = 0
    while True:
        msg = await alice.receive(timeout=5)
        if msg.type is not aiohttp.WSMsgType.TEXT:
            break
        errors += 1
    assert alice.close_code == 4400
    assert errors == 6  # five allowed, the sixth answered and then the close


async def test_peer_left_on_close(harness: Harness) -> None:
    alice, _wa = await harness.join("1", "u1")
    bob, wb = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    await bob.close()
    assert await receive_type(alice, "peer-left") == {"type": "peer-left", "peer": wb["peer"]}
    # bob's id is gone: addressing it is refused.
    await alice.send_json({"type": "signal", "to": wb["peer"], "data": {}})
    assert (await receive_type(alice, "error"))["code"] == "unknown-peer"


async def test_peer_left_on_lost_heartbeat(harness_factory: HarnessFactory) -> None:
    harness = await harness_factory(heartbeat=0.4)
    alice, _ = await harness.join("1", "u1")
    # A client that never answers pings: autoping off and nobody reading its socket.
    silent = await harness.connect(autoping=False)
    await silent.send_json({"type": "join", "ticket": ticket("1", "u2")})
    joined = await receive_type(alice, "peer-joined", timeout=5)
    # alice answers pings (her receive loop runs), the silent one does not.
    started = time.monotonic()
    left = await receive_type(alice, "peer-left", timeout=10)
    assert left["peer"] == joined["peer"]
    assert time.monotonic() - started < 8
    await alice.send_json({"type": "ping"})
    await receive_type(alice, "pong")


async def test_slow_client_is_dropped_without_delaying_others(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(send_buffer_bytes=64 * 1024, rate=10_000, burst=10_000)
    fast, wf = await harness.join("1", "u1")
    slow, ws_ = await harness.join("1", "u2")
    sender, _ = await harness.join("1", "u3")
    await receive_type(fast, "peer-joined")
    await receive_type(fast, "peer-joined")
    await receive_type(slow, "peer-joined")
    # The slow client stops reading: aiohttp's client pauses the socket when its buffer is full,
    # so the server's writes to it back up into its send queue.
    big = {"blob": "x" * 60_000}
    for n in range(150):
        await sender.send_json({"type": "signal", "to": ws_["peer"], "data": big})
        await sender.send_json({"type": "signal", "to": wf["peer"], "data": {"n": n}})
        await asyncio.sleep(0.002)
    # The fast peer gets every one of its messages, in order, and sees the slow one dropped.
    numbers = []
    left = None
    while len(numbers) < 150 or left is None:
        message = await receive_json(fast)
        if message["type"] == "signal":
            numbers.append(message["data"]["n"])
        elif message["type"] == "peer-left":
            left = message["peer"]
    assert numbers == list(range(150))
    assert left == ws_["peer"]
    assert 'watercooler_rejects_total{reason="slow-client"} 1.0' in await harness.metrics()


async def test_ping_pong(harness: Harness) -> None:
    alice, _ = await harness.join()
    await alice.send_json({"type": "ping"})
    assert await receive_json(alice) == {"type": "pong"}


async def test_resume_keeps_the_peer_id_without_peer_left(harness: Harness) -> None:
    alice, _wa = await harness.join("1", "u1")
    bob, wb = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    # bob reconnects on a new socket while the old one still looks alive.
    bob2 = await harness.connect()
    await bob2.send_json({"type": "join", "ticket": ticket("1", "u2"), "resume": wb["resume"]})
    welcome = await receive_type(bob2, "welcome")
    assert welcome["peer"] == wb["peer"]
    assert await receive_close(bob) == 4000
    await harness.wait_for_connections(2)
    await expect_nothing_pending(alice)  # no peer-left, no peer-joined: bob never left
    await alice.send_json({"type": "signal", "to": wb["peer"], "data": {"n": 1}})
    assert (await receive_type(bob2, "signal"))["data"] == {"n": 1}


async def test_resume_after_restart_reuses_the_id(harness_factory: HarnessFactory) -> None:
    first = await harness_factory()
    _, welcome = await first.join("1", "u1")
    second = await harness_factory()  # same secret: a restarted server
    ws = await second.connect()
    await ws.send_json({"type": "join", "ticket": ticket("1", "u1"), "resume": welcome["resume"]})
    assert (await receive_type(ws, "welcome"))["peer"] == welcome["peer"]


async def test_resume_token_of_another_user_is_ignored(harness: Harness) -> None:
    alice, wa = await harness.join("1", "u1")
    mallory = await harness.connect()
    await mallory.send_json({"type": "join", "ticket": ticket("1", "u9"), "resume": wa["resume"]})
    welcome = await receive_type(mallory, "welcome")
    assert welcome["peer"] != wa["peer"]
    assert (await receive_type(alice, "peer-joined"))["peer"] == welcome["peer"]
    await alice.send_json({"type": "ping"})
    await receive_type(alice, "pong")


async def test_healthz_and_metrics(harness: Harness) -> None:
    alice, _ = await harness.join("1", "u1")
    await harness.join("1", "u2")
    await harness.join("2", "u3")
    await alice.send_str("{nope")
    await receive_type(alice, "peer-joined")
    await receive_type(alice, "error")
    health = await (await harness.client.get("/healthz")).json()
    assert health["status"] == "ok"
    assert (health["connections"], health["rooms"], health["peers"]) == (3, 2, 3)
    assert health["broker"] == "memory"
    text = await (await harness.client.get("/metrics")).text()
    assert "watercooler_connections 3.0" in text
    assert "watercooler_rooms 2.0" in text
    assert 'watercooler_rejects_total{reason="bad-json"} 1.0' in text
    assert 'watercooler_messages_total{direction="out",type="welcome"} 3.0' in text


async def test_relay_delivers_with_from_and_is_counted(harness: Harness) -> None:
    alice, wa = await harness.join("1", "u1")
    bob, wb = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    await bob.send_json({"type": "relay", "to": wa["peer"], "data": {"type": "drag-hover"}})
    relayed = await receive_type(alice, "relay")
    assert relayed == {"type": "relay", "from": wb["peer"], "data": {"type": "drag-hover"}}
    text = await (await harness.client.get("/metrics")).text()
    assert 'watercooler_relayed_bytes_total{kind="relay"}' in text


async def test_a_refused_join_releases_its_connection(harness: Harness) -> None:
    for _ in range(3):
        ws = await harness.connect()
        await ws.send_json({"type": "join", "ticket": "not-a-ticket"})
        assert await receive_close(ws) == 4401  # the client answers the close, as browsers do
        await ws.close()
    await harness.wait_for_connections(0)


async def test_a_peer_closed_for_flooding_leaves_its_sprint(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(rate=1.0, burst=5)
    alice, _ = await harness.join("1", "u1")
    bob, wb = await harness.join("1", "u2")
    await receive_type(alice, "peer-joined")
    for _ in range(10):
        await bob.send_json({"type": "ping"})
    assert await receive_close(bob) == 4429
    assert (await receive_type(alice, "peer-left"))["peer"] == wb["peer"]
    await harness.wait_for_connections(1)
    _, welcome = await harness.join("1", "u3")
    assert [p["peer"] for p in welcome["peers"]] != [wb["peer"]]
    assert wb["peer"] not in [p["peer"] for p in welcome["peers"]]
