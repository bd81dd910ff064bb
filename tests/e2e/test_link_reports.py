"""Link reports end to end (docs/protocol.md 1.8): two Chromium tabs and the bot on one sprint,
each reporting its links to the real signaling server, whose log then tells how every pair
linked, in its own lines and through ``python -m signaling.logs``.

Dana's tab and the bot (``--loopback-only``) link directly over loopback. Sam's tab is opened
without the camera/microphone permission, so in this loopback-only namespace it gathers no ICE
candidate (as in test_board_relay.py): its pairs with Dana and with the bot stay on the relay.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.board_page import wait_direct_links, wait_for
from tests.e2e.conftest import PASSWORD, Stack
from tests.support.processes import ROOT
from tests.support.signaling_log import events

pytestmark = pytest.mark.webrtc

OpenBoard = Callable[..., Page]
DANA, SAM, BOT = "Dana Demo", "Sam Second", "Robo Bot"
# Relayed is reported once a pair has had no channel for 10 s (docs/protocol.md 2.6).
RELAYED_WAIT_MS = 45_000


@pytest.fixture
def bot(stack: Stack, tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    """``bot()`` starts ``python -m peer_client --loopback-only`` as Robo Bot (a seeded user) on
    the sprint."""
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "peer_client", "--board", stack.base]
        command += ["--sprint", str(stack.sprint), "--user", "robo", "--password", PASSWORD]
        command += ["--loopback-only", "--json"]
        output = (tmp_path / "bot.log").open("w")
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, text=True
        )
        output.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def peer_ids(log: str) -> dict[str, str]:
    """Each person's peer id, from the log's join lines."""
    return {str(line["name"]): str(line["peer"]) for line in events(log, "join")}


def reports(log: str, one: str, other: str) -> list[dict[str, Any]]:
    """The ``link`` lines of the pair of peers ``one`` and ``other``, in order."""
    pair = {one, other}
    return [line for line in events(log, "link") if {line["a"], line["b"]} == pair]


def reported_by_both(lines: list[dict[str, Any]], outcome: str, path: str | None = None) -> bool:
    """Each side of the pair reported ``outcome`` (over ``path``, if given), and it is the pair's
    last word."""
    sides = {
        line["by"]
        for line in lines
        if line["outcome"] == outcome and (path is None or line.get("path") == path)
    }
    return sides == {"a", "b"} and lines[-1]["outcome"] == outcome


def test_every_pair_is_reported_and_the_log_reader_tells_each_pairs_path(
    stack: Stack, open_board: OpenBoard, bot: Callable[[], subprocess.Popen[str]], tmp_path: Path
) -> None:
    dana = open_board("demo")
    robo = bot()
    wait_direct_links(dana, 1)
    open_board("sam", grant_media=False)

    def peers() -> dict[str, str]:
        return peer_ids(stack.signaling.log_text())

    wait_for(lambda: {DANA, SAM, BOT} <= set(peers()), "all three to join")
    ids = peers()
    direct = (ids[DANA], ids[BOT])
    relayed = [(ids[SAM], ids[DANA]), (ids[SAM], ids[BOT])]

    def all_reported() -> bool:
        log = stack.signaling.log_text()
        return reported_by_both(reports(log, *direct), "open") and all(
            reported_by_both(reports(log, *pair), "relayed", "signaling") for pair in relayed
        )

    wait_for(all_reported, "every pair's link reported by both sides", RELAYED_WAIT_MS)
    assert robo.poll() is None, "the bot is still running"

    # Stopped before anyone leaves: the log ends with each pair as it was.
    stack.stop_signaling()
    log = stack.signaling_logs[-1]
    opened = [line for line in reports(log, *direct) if line["outcome"] == "open"]
    for line in opened:
        # Over loopback both ends are host candidates (a check that comes before the candidate
        # it is from makes that remote candidate peer-reflexive).
        assert line["path"] in ("host/host", "host/prflx"), line
        assert str(line["took_ms"]).isdigit(), line
    (from_tab,) = [line for line in opened if line["by"] == ("a" if ids[DANA] < ids[BOT] else "b")]
    assert float(from_tab["rtt_ms"]) >= 0, from_tab  # the selected pair's round trip, from getStats
    for pair in relayed:
        last = reports(log, *pair)[-1]
        assert (last["outcome"], last["path"]) == ("relayed", "signaling"), last

    # The log reader says how each pair linked.
    path = tmp_path / "signaling.log"
    path.write_text(log, encoding="utf-8")
    summary = subprocess.run(
        [sys.executable, "-m", "signaling.logs", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    def verdict(one: str, other: str) -> str:
        """The reader's line about the pair of ``one`` and ``other`` (the first naming both)."""
        lines = [line for line in summary.splitlines() if one in line and other in line]
        assert lines, f"no line about {one} and {other} in:\n{summary}"
        return lines[0]

    assert opened[-1]["path"] in verdict(DANA, BOT), summary  # the pair's last reported path
    assert "relayed" in verdict(SAM, DANA).lower(), summary
    assert "relayed" in verdict(SAM, BOT).lower(), summary
