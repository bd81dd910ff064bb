"""A hostile peer that floods: drops, drags, hints, pings, offers and text no honest client sends
(docs/protocol.md 1.4, 2.3, 2.4, 2.6, 2.7), with two real Chromium tabs and the bot.

The scene is tests/e2e/hostile_scene.py's: Mallory joins like anyone and sends, over her data
channels or through signaling's relay, what her own client never would. After each attack the
people next to her can still see and do what they could before: no card is frozen, no drag is
shown twice or forever, a colleague's new task still arrives, nobody is closed by signaling, and
the bot's text output holds nothing a terminal would act on. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from playwright.async_api import Page

from peer_client.board_api import BoardClient
from tests.e2e.conftest import PASSWORD
from tests.e2e.hostile_peer import HostilePeer, Path
from tests.e2e.hostile_scene import (
    MAX,
    PATHS,
    Scene,
    card,
    real_move_reaches_everyone,
    wait_for,
)

pytestmark = pytest.mark.webrtc
DONE = {"column": "done", "index": 0}
SENTINEL_TASK = "Project skeleton"  # Scene.handled picks it up and puts it back
# What a terminal would act on: C0 (but the newline ending each line), DEL, C1, bidi controls,
# line separators, lone surrogates.
ACTIVE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]"
)
PENDING = "() => [...document.querySelectorAll('#board .task.pending')].map(c => +c.dataset.taskId)"
GHOSTS = "peer => document.querySelectorAll(`#board .ghost[data-peer='${peer}']`).length"
SEQ = itertools.count(1)


def next_id() -> str:
    """Her message ids: "<session>:<seq>" counting up, as a client's are (Scene.handled uses
    others), so none is a duplicate or looks older than one before it."""
    return f"f:{next(SEQ)}"


async def some_tasks(scene: Scene, count: int) -> list[dict[str, Any]]:
    """``count`` tasks of the board (not the one Scene.handled drags)."""
    tasks = [t for t in await scene.board_tasks() if t["name"] != SENTINEL_TASK]
    assert len(tasks) >= count
    return tasks[:count]


def start(task: dict[str, Any]) -> dict[str, Any]:
    where = {"column": "backlog" if task["sprint"] is None else task["status"], "index": 0}
    return {
        "type": "drag-start",
        "id": next_id(),
        "task": task["id"],
        "version": task["version"],
        "from": where,
    }


def drop(task: dict[str, Any]) -> dict[str, Any]:
    return {"type": "drag-drop", "id": next_id(), "task": task["id"], "version": MAX, "to": DONE}


async def pending_everywhere(scene: Scene, expected: list[int]) -> None:
    """Both tabs mark exactly ``expected`` as dropped and not yet saved; the bot holds those."""
    for tab in scene.tabs:
        shown: list[int] = []

        async def matches(page: Page = tab.page, shown: list[int] = shown) -> bool:
            shown[:] = await page.evaluate(PENDING)
            return sorted(shown) == sorted(expected)

        try:
            await wait_for(matches, f"{tab.name}'s tab to show {expected} pending")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: shows {shown}") from None
    assert sorted(scene.bot.board_state.overlays) == sorted(expected)


async def keyboard_move(page: Page, task_id: int) -> None:
    """Space picks the focused card up, the left arrow moves it a column, Space drops it."""
    await card(page, task_id).focus()
    for key in ("Space", "ArrowLeft", "Space"):
        await page.keyboard.press(key)


@PATHS
async def test_drops_freeze_no_card_and_a_card_she_dropped_still_moves(
    scene: Scene, via: Path
) -> None:
    tasks = await some_tasks(scene, 8)
    # Drops of cards she never picked up, at a version the board never had: ignored.
    for task in tasks:
        scene.attack(drop(task), via)
    # Her own drags, dropped one after another: only her latest drop shows.
    victim, other, keyed = tasks[0], tasks[1], tasks[2]
    for task in (other, victim):
        scene.attack(start(task), via)
        scene.attack(drop(task), via)
    await scene.handled(via)
    await pending_everywhere(scene, [victim["id"]])

    # Dana moves the card Mallory shows as dropped, with the pointer: saved, shown everywhere.
    column = "testing" if victim["status"] != "testing" else "in_progress"
    await real_move_reaches_everyone(scene, scene.dana.page, victim["name"], column)
    await pending_everywhere(scene, [])
    # And with the keyboard, a card Mallory has just dropped (on Done, where it is shown).
    scene.attack(start(keyed), via)
    scene.attack(drop(keyed), via)
    await pending_everywhere(scene, [keyed["id"]])
    await keyboard_move(scene.dana.page, keyed["id"])
    await wait_for(
        lambda: scene.bot.board_state.tasks[keyed["id"]]["version"] == keyed["version"] + 1,
        "Dana's keyboard move to be saved and reach the bot",
    )
    await pending_everywhere(scene, [])
    scene.assert_no_page_errors()


@PATHS
async def test_a_drag_flood_shows_one_drag_of_hers_and_the_bot_announces_each_once(
    scene: Scene, via: Path
) -> None:
    tasks = await some_tasks(scene, 4)
    first, last = tasks[0], tasks[-1]
    messages = [start(first) for _ in range(5)]  # the same card, five times
    messages += [start(task) for _ in range(2) for task in tasks]
    for message in messages:
        scene.attack(message, via)
    ghost = f'#board .ghost[data-peer="{scene.mallory.peer}"][data-task-id="{last["id"]}"]'
    for tab in scene.tabs:
        await tab.page.wait_for_selector(ghost, state="attached")
        assert await tab.page.evaluate(GHOSTS, scene.mallory.peer) == 1
    await wait_for(
        lambda: (
            [d.task for d in scene.bot.board_state.drags_of(scene.mallory.peer)] == [last["id"]]
        ),
        "the bot to hold her latest drag alone",
    )
    starts = [
        e.task for e in scene.bot_drags if e.person.peer == scene.mallory.peer and e.kind == "start"
    ]
    # Her first card once (not five times), then each change of card.
    assert starts == [t["id"] for t in tasks] + [t["id"] for t in tasks], starts

    # A snapshot of four drags: one drag of hers, the last of them.
    drags = [{"task": t["id"], "from": DONE, "over": DONE} for t in reversed(tasks)]
    scene.attack({"type": "snapshot", "id": next_id(), "drags": drags}, via)
    ghost = f'#board .ghost[data-peer="{scene.mallory.peer}"][data-task-id="{first["id"]}"]'
    for tab in scene.tabs:
        await tab.page.wait_for_selector(ghost, state="attached")
        assert await tab.page.evaluate(GHOSTS, scene.mallory.peer) == 1
    await wait_for(
        lambda: (
            [d.task for d in scene.bot.board_state.drags_of(scene.mallory.peer)] == [first["id"]]
        ),
        "the bot to hold the snapshot's last drag alone",
    )
    scene.assert_no_page_errors()


@PATHS
async def test_hints_cannot_starve_a_colleagues_new_backlog_task(scene: Scene, via: Path) -> None:
    # Twenty tasks everyone knows, so her hints could fill every hint slot there is.
    board = await scene.board_tasks()
    for n in range(max(0, 21 - len(board))):
        await scene.api(
            "POST", "/api/tasks/", {"name": f"Filler {n}", "sprint": scene.stack.sprint}
        )
    ids = [task["id"] for task in await scene.board_tasks()][:20]
    await wait_for(lambda: all(i in scene.bot.board_state.tasks for i in ids), "fillers to arrive")
    # Through the relay signaling allows 20 relays a second: she hints Dana alone there.
    targets = [scene.dana.peer, scene.bot.peer] if via == "channel" else [scene.dana.peer]
    stop = asyncio.Event()

    async def hint_forever() -> None:
        while not stop.is_set():
            for task_id in ids:
                task = {"id": task_id, "version": MAX, "name": "x", "sprint": None}
                task |= {"status": "not_started", "position": 0}
                hint = {"type": "task-updated", "id": next_id(), "task": task}
                for peer in targets:
                    scene.mallory.send(peer, hint, via)
            await asyncio.sleep(0.3 if via == "channel" else 1.5)

    hinting = asyncio.create_task(hint_forever())
    try:
        await scene.dana.page.wait_for_function(
            "() => window.watercooler.board.refreshes.entries.size >= 5"
        )
        # Sam adds a task: it is in the backlog, which has no board events; his hint is its way.
        name = "Added by Sam during the hints"
        await scene.sam.page.fill(".add-task input[name=name]", name)
        await scene.sam.page.click(".add-task button[type=submit]")
        await scene.dana.page.locator("#board .task strong", has_text=name).wait_for()
        if via == "channel":
            await wait_for(
                lambda: any(t["name"] == name for t in scene.bot.board_state.tasks.values()),
                "the bot to keep Sam's new task",
            )
    finally:
        stop.set()
        await hinting
    scene.assert_no_page_errors()


async def test_relayed_pings_get_no_answer_and_a_drag_whose_end_is_lost_ends(
    scene: Scene,
) -> None:
    # Each ping answered through the relay would spend the budget the victim's drags need. (Under
    # signaling's relay burst for her connection, 60: three victims, fifteen each.)
    for _ in range(15):
        scene.attack({"type": "ping", "id": next_id(), "t": 1}, "relay")
    await scene.handled("relay")
    pongs = [m for got in scene.mallory.received.values() for m in got if m["type"] == "pong"]
    assert pongs == [], "nobody answered a relayed ping, on either path"

    # A drag-start whose cancel never comes, and silence from her: it ends by itself.
    (task,) = await some_tasks(scene, 1)
    scene.attack(start(task), "relay")
    ghost = f'#board .ghost[data-peer="{scene.mallory.peer}"]'
    for tab in scene.tabs:
        await tab.page.wait_for_selector(ghost, state="attached")
    for tab in scene.tabs:
        await tab.page.wait_for_selector(ghost, state="detached", timeout=45_000)
    await wait_for(
        lambda: not scene.bot.board_state.drags_of(scene.mallory.peer),
        "the bot to end the silent drag",
        timeout=45,
    )
    scene.assert_no_page_errors()


async def offer_sdp() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.createDataChannel("watercooler")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = str(pc.localDescription.sdp)
    await pc.close()
    return sdp


async def test_an_offer_flood_closes_nobody(scene: Scene) -> None:
    # Two connections of Mallory's (signaling allows a user ten), 35 offers a second each, to Dana
    # and then to the bot, for 8 s each.
    second_board = BoardClient(scene.stack.base)
    await second_board.login("mallory", PASSWORD)
    second = HostilePeer(second_board, scene.stack.sprint)
    await second.join()
    try:
        offer = {"description": {"type": "offer", "sdp": await offer_sdp()}}
        loop = asyncio.get_running_loop()
        for target in (scene.dana.peer, scene.bot.peer):
            began = loop.time()
            for n in range(8 * 35):
                for sender in (scene.mallory, second):
                    sender.signal(target, offer)
                await asyncio.sleep(max(0.0, began + (n + 1) / 35 - loop.time()))
        # A real move after it reaches everyone, and nobody was closed or had to rejoin.
        await real_move_reaches_everyone(scene, scene.sam.page, "CSV export", "done")
        for tab in scene.tabs:
            assert await tab.page.evaluate("() => window.watercooler.welcomes") == 1, tab.name
        assert scene.bot.signaling.reconnects == 0
        assert "(4429)" not in scene.stack.signaling.output()
    finally:
        await second.close()
        await second_board.close()
    scene.assert_no_page_errors()


FORGED_LINE = "\x1b[2J\x1b[H\x1b]0;owned\x07Evil\n12:00:00 + Eve Admin is here (9 viewing)"


@PATHS
async def test_text_from_peers_and_the_board_reaches_the_bots_output_escaped(
    scene: Scene, via: Path
) -> None:
    for agent in ("\ud800", "\udcff", "web\x9b2J\x9b31mROOT", "a\x85b", "\u202etob"):
        scene.mallory.send(scene.bot.peer, {"type": "hello", "id": next_id(), "agent": agent}, via)
    await scene.handled(via)
    # Any board user may name a task so; the bot lists the backlog when she hints at it.
    created = await scene.api(
        "POST", "/api/tasks/", {"name": FORGED_LINE, "sprint": None}, user="mallory"
    )
    phantom = {"id": 999_999, "version": 1, "name": "x", "sprint": None}
    phantom |= {"status": "not_started", "position": 0}
    hint = {"type": "task-updated", "id": next_id(), "task": phantom}
    scene.mallory.send(scene.bot.peer, hint, via)
    await wait_for(lambda: created["id"] in scene.bot.board_state.tasks, "the bot to list it")

    text = scene.bot_text.getvalue().decode("utf-8")  # strict: no lone surrogate got through
    assert not ACTIVE.search(text), [line for line in text.splitlines() if ACTIVE.search(line)]
    (line,) = [line for line in text.splitlines() if "Evil" in line]
    assert "\\x1b[2J" in line
    assert "Evil\\x0a12:00:00 + Eve Admin" in line, "the name's newline forged no line"
    assert "Mallory Hostile is on a" not in text, "no agent breaking the rules was shown"
    scene.assert_no_page_errors()
