"""``python -m signaling.logs``: the story of logs a real server wrote, human and JSON."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from signaling.logreader import parse_line
from signaling.logs import events, quoted
from signaling.logsummary import Story
from signaling.logtool import build_parser, follow
from signaling.tickets import mint_ticket
from tests.signaling.conftest import SECRET, receive_type
from tests.signaling.log_lines import human, json_log
from tests.support.processes import ROOT, SignalingProcess
from tests.support.waiting import WAIT, wait_until

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
        # All five have left (Dee's leave came first): each pair's end is in the log.
        await wait_until(
            lambda: len(re.findall(r"\bleave\b", server.log_text())) >= len(peers),
            what="five leave lines",
        )
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
    # Everyone left at the end: each pair says how it ended, and still what it was.
    assert re.search(r"relayed from \S+ until (Cy|Bo) \([\w-]+\) left at", about("Cy", "Bo"))
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


# --- several files, followed input, odd input and arguments ------------------------------------


def run_reader(*args: str, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """The reader on ``data``, its standard streams strict UTF-8 as under a locale such as
    en_US.UTF-8 (under C or C.UTF-8 Python would quietly use surrogateescape instead)."""
    return subprocess.run(
        [sys.executable, "-m", "signaling.logs", *args],
        cwd=ROOT,
        input=data,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )


def test_logs_of_two_instances_tell_one_story_whatever_their_order(tmp_path: Path) -> None:
    """Ann on one instance, Sam on the other; both report; Sam leaves while Ann says relayed."""
    one = tmp_path / "one.log"
    two = tmp_path / "two.log"
    one.write_text(
        human.join(0, "XqXKGyn", "Ann")
        + human.link(2, "XqXKGyn", "LvILULf", "relayed", path="signaling")
        + human.link(4, "XqXKGyn", "LvILULf", "open", path="host/host", took_ms=30)
        + human.link(6, "XqXKGyn", "LvILULf", "relayed", path="signaling")
        + human.leave(40, "XqXKGyn", "Ann")
    )
    two.write_text(
        json_log.join(1, "LvILULf", "Sam")
        + json_log.link(3, "LvILULf", "XqXKGyn", "relayed", path="signaling")
        + json_log.link(5, "LvILULf", "XqXKGyn", "open", path="host/host", took_ms=31)
        + json_log.leave(7, "LvILULf", "Sam")
    )
    forward = run_reader(str(one), str(two))
    backward = run_reader(str(two), str(one))
    assert forward.returncode == backward.returncode == 0
    assert forward.stdout == backward.stdout
    assert (
        b"Sam (LvILUL) <-> Ann (XqXKGy): relayed from 10:00:06.000 until Sam (LvILUL) left at "
        b"10:00:07.000" in forward.stdout
    )
    steps = [line for line in forward.stdout.decode().splitlines() if "(reported by" in line]
    assert [step.split()[0][-5:] for step in steps] == ["2.000", "3.000", "4.000", "5.000", "6.000"]


def test_a_log_without_joins_still_shows_its_pairs() -> None:
    lines = human.link(1, "AAAAAA1", "BBBBBB2", "relayed", path="signaling") + human.line(
        "shutdown", 2, connections=0
    )
    done = run_reader("-", data=lines.encode())
    assert done.returncode == 0
    assert b"AAAAAA <-> BBBBBB: relayed from 10:00:01.000" in done.stdout
    assert b"nothing in this log matches" not in done.stdout


def follow_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_following_reports_an_unanswered_offer_once_the_clock_says_its_time_is_up() -> None:
    """No line comes after the offer: the reader's clock, injected here, is what moves."""
    now = [100.0]
    out = io.StringIO()
    story = Story(no_answer_seconds=10)

    def pauses() -> Iterator[str | None]:
        yield human.join(0, "AAAAAA1", "Ann")
        yield human.join(1, "BBBBBB2", "Bo")
        yield human.signal(2, "BBBBBB2", "AAAAAA1", "offer", "host")
        for _ in range(3):
            now[0] += 4.5  # 4.5, 9 then 13.5 s of a quiet log
            yield None
            if now[0] < 113:
                assert out.getvalue() == ""

    follow(story, pauses(), out, follow_args(), clock=lambda: now[0])
    assert out.getvalue() == (
        "10:00:12.000 sprint 7: Ann (AAAAAA) <-> Bo (BBBBBB): no answer within 10 s: "
        "Ann (AAAAAA) never answered the offer of 10:00:02.000 (its client may be stuck, or "
        "gone)\n"
    )


def test_a_followed_pipe_reports_an_unanswered_offer_while_it_stays_open() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "signaling.logs", "--no-answer", "0.2"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as reader:
        assert reader.stdin is not None
        assert reader.stdout is not None
        try:
            for line in (
                human.join(0, "AAAAAA1", "Ann"),
                human.join(1, "BBBBBB2", "Bo"),
                human.signal(2, "BBBBBB2", "AAAAAA1", "offer", "host"),
            ):
                reader.stdin.write(line.encode())
            reader.stdin.flush()  # and kept open: a live log that went quiet
            ready, _, _ = select.select([reader.stdout], [], [], WAIT)
            assert ready, "nothing reported while the pipe stayed open"
            assert b"no answer within 0.2 s: Ann (AAAAAA)" in reader.stdout.readline()
        finally:
            reader.kill()


@pytest.mark.parametrize(
    ("label", "data"),
    [
        ("a lone surrogate in a name", human.join(1, "AAAAAA1", "Sam\ud800").encode()),
        ("invalid UTF-8", b"\xff\xfe\x00garbage\n" + human.join(1, "A1", "S\xe9").encode()[:-8]),
        ("bad UTF-8 inside a name", human.join(1, "A1", "Sam").encode().replace(b"Sam", b"S\xff")),
        ("NUL and a long line", b"\x00" * 100 + b"\n" + b"x" * 2_000_000 + b"\n"),
        ("a cut quoted value", human.join(1, "A1", "Sam Lee").encode()[:-20]),
    ],
)
def test_odd_input_on_stdin_never_gives_a_traceback(label: str, data: bytes) -> None:
    done = run_reader(data=data)
    assert done.returncode == 0, (label, done.stderr)
    assert done.stderr == b""
    done.stdout.decode("utf-8")  # what it prints is always valid UTF-8


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--no-answer", "nan"], "--no-answer"),
        (["--no-answer", "-1"], "--no-answer"),
        (["--no-answer", "0"], "--no-answer"),
        (["--no-answer", "inf"], "--no-answer"),
        (["--no-answer", "1e300"], "--no-answer"),
        (["--since", "yesterday"], "--since"),
        (["--since", "2026-13-45 10:00"], "--since"),
        (["--since", "25:61"], "--since"),
        (["--peer", ""], "--peer"),
        (["--sprint", " "], "--sprint"),
    ],
)
def test_bad_arguments_are_refused_naming_the_option(args: list[str], option: str) -> None:
    done = run_reader(*args)
    assert done.returncode == 2
    assert f"error: argument {option}: ".encode() in done.stderr
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize("since", ["99999999h", "9" * 30 + "d", "9" * 400 + "s"])
def test_a_span_before_any_date_means_everything(since: str) -> None:
    done = run_reader("--since", since, data=human.join(1, "AAAAAA1", "Ann").encode())
    assert done.returncode == 0, done.stderr
    assert b"Ann (AAAAAA, user ann)" in done.stdout


@pytest.mark.parametrize(
    "since", ["2026-12-06T10:00:05Z", "2026-12-06T10:00:05.000Z", "2026-12-06 10:00:05", "10:00:05"]
)
def test_since_takes_the_json_logs_own_timestamps_and_the_humans(since: str) -> None:
    lines = human.link(1, "AAAAAA1", "BBBBBB2", "open", path="host/host") + human.link(
        9, "CCCCCC3", "DDDDDD4", "failed", reason="ice"
    )
    done = run_reader("--since", since, data=lines.encode())
    assert done.returncode == 0, done.stderr
    assert b"CCCCCC <-> DDDDDD" in done.stdout
    assert b"AAAAAA" not in done.stdout


def test_peer_finds_a_person_by_name() -> None:
    lines = (
        human.join(0, "AAAAAA1", "Ann")
        + human.join(1, "BBBBBB2", "Sam Second")
        + human.join(2, "CCCCCC3", "Cy")
        + human.signal(3, "BBBBBB2", "AAAAAA1", "offer", "host")
        + human.signal(4, "CCCCCC3", "AAAAAA1", "offer", "host")
    )
    done = run_reader("--peer", "sam", data=lines.encode())
    assert b"Ann (AAAAAA) <-> Sam Second (BBBBBB): offered at 10:00:03.000" in done.stdout
    assert b"Cy (CCCCCC" not in done.stdout


def test_a_name_with_escape_sequences_and_line_breaks_is_printed_escaped() -> None:
    evil = "Sam\x1b[2J\x1b[H\n    Mallory (AAAAAA) <-> Ann (BBBBBB): open via host/host\u202e"
    for writer in (human, json_log):
        lines = writer.join(0, "AAAAAA1", "Ann") + writer.join(1, "EEEEEE5", evil)
        lines += writer.signal(2, "EEEEEE5", "AAAAAA1", "offer", "host")
        done = run_reader("-", data=lines.encode())
        text = done.stdout.decode()
        assert "\x1b" not in text
        assert "\u202e" not in text
        assert "Sam\\x1b[2J\\x1b[H\\x0a    Mallory" in text
        assert len(text.splitlines()) == 7  # sprint, who, 2 stays, links, the pair, its step
