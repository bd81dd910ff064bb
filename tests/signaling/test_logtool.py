"""``python -m signaling.logs``: the story of logs a real server wrote, human and JSON."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

from signaling.logreader import parse_line
from signaling.logs import events, quoted
from signaling.tickets import mint_ticket
from tests.signaling.conftest import SECRET, receive_type
from tests.support.processes import ROOT, SignalingProcess

OFFER = {"description": {"type": "offer", "sdp": "v=0\r\na=candidate:1 1 udp 2 h 1 typ host\r\n"}}
ANSWER = {"description": {"type": "answer", "sdp": "v=0\r\n"}}
CANDIDATE = {"candidate": {"candidate": "candidate:1 1 udp 2 127.0.0.1 9 typ host", "sdpMid": "0"}}


async def scene(server: SignalingProcess) -> dict[str, str]:
    """Five people in sprint 7; each pair's link goes another way. Returns name -> peer id."""
    peers: dict[str, str] = {}
    sockets: dict[str, aiohttp.ClientWebSocketResponse] = {}
    async with aiohttp.ClientSession() as http:

        async def join(name: str) -> aiohttp.ClientWebSocketResponse:
            ws = await http.ws_connect(server.ws_url)
            token = mint_ticket(SECRET, sprint="7", user_id=name.lower(), name=name)
            await ws.send_json({"type": "join", "ticket": token})
            peers[name] = (await receive_type(ws, "welcome"))["peer"]
            sockets[name] = ws
            return ws

        async def signal(sender: str, to: str, data: dict[str, Any]) -> None:
            await sockets[sender].send_json({"type": "signal", "to": peers[to], "data": data})

        async def link(sender: str, to: str, **fields: Any) -> None:
            await sockets[sender].send_json({"type": "link", "peer": peers[to], **fields})

        for name in ("Ann", "Bo"):
            await join(name)
        await signal("Bo", "Ann", OFFER)
        await signal("Ann", "Bo", ANSWER)
        await signal("Ann", "Bo", CANDIDATE)
        await link("Bo", "Ann", outcome="open", path="host/host", took_ms=48, rtt_ms=1.2)
        await link("Ann", "Bo", outcome="open", path="host/host", took_ms=45, rtt_ms=1.1)
        await join("Cy")
        await signal("Cy", "Ann", OFFER)  # Ann never answers Cy
        await signal("Cy", "Bo", OFFER)
        await signal("Bo", "Cy", ANSWER)
        await link("Cy", "Bo", outcome="relayed", path="signaling")
        await join("Dee")
        await signal("Dee", "Bo", OFFER)
        await sockets["Dee"].close()  # gone before Bo answered
        await join("Eve")
        await signal("Eve", "Ann", OFFER)
        await signal("Ann", "Eve", ANSWER)
        await link("Eve", "Ann", outcome="failed", reason="ice connection failed")
        await asyncio.sleep(1.2)  # let Cy's offer to Ann go unanswered for longer than 1 s
        for name in ("Ann", "Bo", "Cy", "Eve"):
            await sockets[name].close()
    return peers


def read_log(*args: str, text: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "signaling.logs", *args],
        cwd=ROOT,
        input=text,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


@pytest.mark.parametrize("log_format", ["human", "json"])
async def test_the_reader_tells_each_pairs_story_failures_first(log_format: str) -> None:
    server = SignalingProcess(SECRET, "--log-format", log_format).wait_ready()
    try:
        peers = await scene(server)
        server.wait_for_log("leave")
    finally:
        log = server.output()
    story = read_log("--no-answer", "1", text=log)
    links = story.split("links, failures first\n", 1)[1].splitlines()
    verdicts = [
        line.strip() for line in links if line.startswith("    ") and not line.startswith("      ")
    ]
    assert len(verdicts) == 5, story

    def about(one: str, other: str) -> str:
        found = [v for v in verdicts if f"({peers[one][:6]})" in v and f"({peers[other][:6]})" in v]
        assert len(found) == 1, (one, other, verdicts)
        return found[0]

    assert "FAILED" in about("Eve", "Ann")
    assert "ice connection failed" in about("Eve", "Ann")
    assert "left mid-negotiation" in about("Dee", "Bo")
    assert "Dee" in about("Dee", "Bo").split("left")[0]
    assert "no answer within 1 s: Ann" in about("Cy", "Ann")
    assert "RELAYED since" in about("Cy", "Bo")
    # The latest of the two sides' reports (they race: two sockets).
    assert re.search(r"open via host/host in 4[58] ms, round trip 1\.[12] ms", about("Ann", "Bo"))
    assert verdicts.index(about("Eve", "Ann")) == 0  # the failure first
    assert verdicts.index(about("Ann", "Bo")) == 4  # the healthy link last
    # Who was there, each with the reason they left.
    people = story.split("links, failures first")[0]
    for name, peer in peers.items():
        assert f"    {name} ({peer[:6]}, user {name.lower()}): " in people
    assert "still there" not in people  # everyone left, and the log says why
    # Filters: one peer, one sprint that is not there.
    only_dee = read_log("--peer", peers["Dee"][:6], "--no-answer", "1", text=log)
    assert "left mid-negotiation" in only_dee
    assert "FAILED" not in only_dee
    assert read_log("--sprint", "nope", text=log) == "nothing in this log matches\n"


def test_a_live_log_prints_each_outcome_as_it_comes() -> None:
    lines = [
        events.line(
            "join", 20, {"sprint": "7", "peer": "AAAAAA1", "user": "1", "name": "Ann"}, 1e9
        ),
        events.line("join", 20, {"sprint": "7", "peer": "BBBBBB2", "user": "2", "name": "Bo"}, 1e9),
        events.line(
            "link",
            20,
            {
                "sprint": "7",
                "a": "AAAAAA1",
                "b": "BBBBBB2",
                "outcome": "relayed",
                "path": "signaling",
                "by": "a",
            },
            1e9 + 1,
        ),
    ]
    out = read_log("-", text="\n".join(lines) + "\n")
    first = out.splitlines()[0]
    assert "sprint 7: Ann (AAAAAA) <-> Bo (BBBBBB): RELAYED since" in first


@pytest.mark.parametrize(
    "value",
    ["plain", "with space", 'quo"te', "back\\slash", "line\nbreak", "\x1b[31m", "é and \u2028"],
)
def test_quoted_values_read_back_exactly(value: str) -> None:
    line = f"2026-12-02 10:00:00.000 INFO  join name={quoted(value)} peer=p1"
    entry = parse_line(line)
    assert entry is not None
    assert entry.fields == {"name": value, "peer": "p1"}


def test_lines_that_are_not_log_lines_are_skipped() -> None:
    for line in ("Traceback (most recent call last):", "", '{"no":"event"}', "2026 nope"):
        assert parse_line(line) is None


def test_a_pair_that_negotiated_then_left_is_not_said_to_have_left_mid_negotiation() -> None:
    """Clients that do not report links: offer, answer, a while, then both go."""
    stamp = 1_795_000_000.0

    def line(event: str, at: float, **fields: object) -> str:
        return events.line(event, 20, {"sprint": "7", **fields}, stamp + at)

    lines = [
        line("join", 0, peer="AAAAAA1", user="1", name="Ann"),
        line("join", 1, peer="BBBBBB2", user="2", name="Bo"),
        line("signal", 1.1, **{"from": "BBBBBB2"}, to="AAAAAA1", kind="offer", bytes=900),
        line("signal", 1.2, **{"from": "AAAAAA1"}, to="BBBBBB2", kind="answer", bytes=700),
        line("leave", 30, peer="AAAAAA1", user="1", name="Ann", reason="closed (1001)"),
        line("leave", 31, peer="BBBBBB2", user="2", name="Bo", reason="closed (1001)"),
    ]
    story = read_log("--no-answer", "1", text="\n".join(lines) + "\n")
    assert "negotiated at" in story
    assert "no link reported" in story
    assert "left mid-negotiation" not in story
