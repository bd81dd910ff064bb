"""The sprint a hostile peer attacks: two Chromium tabs, the bot, and the hostile peer itself.

Dana (``demo``) and Sam (``sam``) each have a real tab; the bot (``robo``) runs in this process
through the bot's own code (``peer_client.bot.open_session`` and its event printers, JSON lines
and text as a terminal gets it), so its state and output can be compared with the board's;
Mallory (``mallory``) is a :class:`~tests.e2e.hostile_peer.HostilePeer`.
Everything is linked by real data channels through the real signaling server. Helpers are named
for what they check, and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import Browser, Page

import tests.support.webrtc  # noqa: F401  (applies the aioice loopback patch)
from peer_client.actions import BotOptions
from peer_client.board_api import BoardClient
from peer_client.bot import EventPrinter, open_session
from peer_client.session import BoardSession, DragEvent
from tests.e2e.board_page import WAIT_MS
from tests.e2e.conftest import PASSWORD, Stack
from tests.e2e.hostile_peer import HostilePeer, Path

WAIT_S = WAIT_MS / 1000
MAX = 2**53 - 1
PATHS = pytest.mark.parametrize("via", ["channel", "relay"])
COLUMNS = ("backlog", "not_started", "in_progress", "testing", "done")
# What a tab shows: each column's card ids in order, and each card's title.
SHOWN = """() => {
    const columns = {};
    for (const section of document.querySelectorAll("#board .column")) {
        columns[section.dataset.column] = [...section.querySelectorAll(".tasks > .task")]
            .map(card => Number(card.dataset.taskId));
    }
    const names = {};
    for (const card of document.querySelectorAll("#board .task")) {
        names[card.dataset.taskId] = card.querySelector(".title strong")?.textContent ?? null;
    }
    return {columns, names};
}"""


async def wait_for(predicate: Any, what: str, timeout: float = WAIT_S) -> None:
    """Poll ``predicate`` (sync or async) until true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass
class Tab:
    name: str
    page: Page
    peer: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class Scene:
    stack: Stack
    dana: Tab
    sam: Tab
    bot: BoardSession
    bot_board: BoardClient
    bot_output: io.StringIO
    bot_text: io.BytesIO
    """The bot's text output, as UTF-8 bytes written strictly (a terminal's stdout)."""
    mallory: HostilePeer
    bot_drags: list[DragEvent] = field(default_factory=list)
    sentinels: int = 0

    @property
    def tabs(self) -> tuple[Tab, Tab]:
        return self.dana, self.sam

    @property
    def victims(self) -> list[str]:
        return [self.dana.peer, self.sam.peer, self.bot.peer]

    async def api(self, method: str, path: str, body: Any = None, user: str = "demo") -> Any:
        return await asyncio.to_thread(self.stack.api, method, path, body, user)

    async def task_named(self, name: str) -> dict[str, Any]:
        query = urllib.parse.quote(name)
        tasks = (await self.api("GET", f"/api/tasks/?search={query}"))["results"]
        (task,) = [task for task in tasks if task["name"] == name]
        return dict(task)

    async def board_tasks(self) -> list[dict[str, Any]]:
        """Every task of the sprint and the backlog, as the board holds them now."""
        sprint = await self.api("GET", f"/api/tasks/?sprint={self.stack.sprint}&page_size=500")
        backlog = await self.api("GET", "/api/tasks/?backlog=true&page_size=500")
        return [*sprint["results"], *backlog["results"]]

    async def all_tasks(self) -> list[dict[str, Any]]:
        return list((await self.api("GET", "/api/tasks/?page_size=500"))["results"])

    # --- the attack ------------------------------------------------------------------------

    def attack(self, message: dict[str, Any], via: Path) -> None:
        """Mallory sends ``message`` to Dana, Sam and the bot."""
        for peer in self.victims:
            self.mallory.send(peer, message, via)

    async def handled(self, via: Path) -> None:
        """Wait until every victim has handled what Mallory sent so far: she picks a card up
        (her own action, which everyone may see) and puts it back, and everyone shows both.
        Channels and the relay keep one sender's order, so all earlier messages came first."""
        self.sentinels += 1
        task = (await self.task_named("Project skeleton"))["id"]
        start = {"type": "drag-start", "id": f"m:s{self.sentinels}", "task": task, "version": 1}
        self.attack({**start, "from": {"column": "done", "index": 1}}, via)
        ghost = f'#board .ghost[data-peer="{self.mallory.peer}"][data-task-id="{task}"]'
        for tab in self.tabs:
            await tab.page.wait_for_selector(ghost, state="attached")
        await wait_for(lambda: self._bot_saw(task, "start"), "the bot to see Mallory's drag")
        self.attack({"type": "drag-cancel", "id": f"m:c{self.sentinels}", "task": task}, via)
        for tab in self.tabs:
            await tab.page.wait_for_selector(ghost, state="detached")
        await wait_for(lambda: self._bot_saw(task, "cancel"), "the bot to see Mallory put it back")

    def _bot_saw(self, task: int, kind: str) -> bool:
        seen = [e for e in self.bot_drags if e.person.peer == self.mallory.peer and e.task == task]
        return bool(seen) and seen[-1].kind == kind

    # --- what everyone shows -----------------------------------------------------------------

    def bot_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.bot_output.getvalue().splitlines() if line]

    async def assert_everyone_shows_the_board(self) -> None:
        """Both tabs show exactly the board's columns and names; the bot holds exactly the
        board's tasks. Waits (bounded) for board events still on their way."""
        tasks = await self.board_tasks()
        expected: dict[str, list[int]] = {column: [] for column in COLUMNS}
        for task in sorted(tasks, key=lambda t: (t["position"], t["id"])):
            expected["backlog" if task["sprint"] is None else task["status"]].append(task["id"])
        names = {str(task["id"]): task["name"] for task in tasks}
        for tab in self.tabs:
            last: dict[str, Any] = {}

            async def matches(tab: Tab = tab, last: dict[str, Any] = last) -> bool:
                last.update(await tab.page.evaluate(SHOWN))
                return last["columns"] == expected and last["names"] == names

            try:
                await wait_for(matches, f"{tab.name}'s tab to show the board")
            except AssertionError as exc:
                raise AssertionError(f"{exc}: shows {last}, board {expected} {names}") from None
        kept_fields = ("name", "description", "sprint", "status", "version", "due")
        kept_fields += ("assignee", "assignee_name")
        board = {task["id"]: {k: task.get(k) for k in kept_fields} for task in tasks}

        def bot_matches() -> bool:
            held = self.bot.board_state.tasks
            mine = {i: {k: t.get(k) for k in kept_fields} for i, t in held.items()}
            return mine == board

        try:
            await wait_for(bot_matches, "the bot to hold the board's tasks")
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {self.bot.board_state.tasks} vs {board}") from None

    def assert_no_page_errors(self) -> None:
        for tab in self.tabs:
            assert tab.errors == [], f"{tab.name}'s tab: {tab.errors}"


async def open_tab(browser: Browser, stack: Stack, username: str) -> Tab:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    await context.grant_permissions(["camera", "microphone"], origin=stack.origin)
    context.set_default_timeout(WAIT_MS)
    page = await context.new_page()
    tab = Tab(username, page)
    page.on("console", lambda message: _console(tab, message))
    page.on("pageerror", lambda error: tab.errors.append(f"page error: {error}"))
    await page.goto(f"{stack.base}/login/?next=/sprints/{stack.sprint}/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/sprints/{stack.sprint}/")
    await page.wait_for_function("() => window.watercooler?.state.tasks.size > 0")
    await page.wait_for_function("() => window.watercooler.stats().peer !== null")
    tab.peer = str(await page.evaluate("() => window.watercooler.stats().peer"))
    return tab


def _console(tab: Tab, message: Any) -> None:
    if message.type == "error":
        tab.errors.append(f"console error: {message.text} at {message.location}")


async def start_scene(browser: Browser, stack: Stack) -> Scene:
    dana = await open_tab(browser, stack, "demo")
    sam = await open_tab(browser, stack, "sam")
    options = BotOptions(board=stack.base, sprint=stack.sprint, user="robo", password=PASSWORD)
    bot_board, bot = await open_session(options)
    output = io.StringIO()
    EventPrinter(bot, as_json=True, out=output)
    text = io.BytesIO()
    terminal = io.TextIOWrapper(text, encoding="utf-8", errors="strict", write_through=True)
    EventPrinter(bot, as_json=False, out=terminal)
    await bot.join()
    mallory_board = BoardClient(stack.base)
    await mallory_board.login("mallory", PASSWORD)
    mallory = HostilePeer(mallory_board, stack.sprint)
    await mallory.join()
    scene = Scene(stack, dana, sam, bot, bot_board, output, text, mallory)
    bot.on("drag", scene.bot_drags.append)
    for tab in scene.tabs:
        await tab.page.wait_for_function(
            "() => window.watercooler.stats().links.filter(l => l.path === 'direct').length === 3"
        )
    others = {scene.dana.peer, scene.sam.peer, mallory.peer}
    await wait_for(
        lambda: all(bot.link_state(peer) == "direct" for peer in others), "the bot's links"
    )
    await wait_for(lambda: mallory.linked(scene.victims), "Mallory's channels")
    # Each tab has greeted Mallory, so she has seen their message ids.
    await wait_for(
        lambda: all(mallory.received.get(tab.peer) for tab in scene.tabs), "hellos to Mallory"
    )
    return scene


async def stop_scene(scene: Scene) -> None:
    await scene.mallory.close()
    await scene.mallory.board.close()
    await scene.bot.close()
    await scene.bot_board.close()
    for tab in scene.tabs:
        await tab.page.context.close()


# --- what people do on the page, and what it must show ----------------------------------------


def card(page: Page, task_id: int) -> Any:
    return page.locator(f'#board .task[data-task-id="{task_id}"]')


async def drag_to(page: Page, task_id: int, column: str) -> None:
    """Real pointer events: press on the card, move over the column's end, release."""
    box = await card(page, task_id).bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + 12, y + 8, steps=3)
    target = await page.locator(f'#board .column[data-column="{column}"] .tasks').bounding_box()
    assert target is not None
    await page.mouse.move(
        target["x"] + target["width"] / 2, target["y"] + target["height"] - 4, steps=8
    )
    await page.mouse.up()


async def wait_in_column(page: Page, task_id: int, column: str) -> None:
    await page.wait_for_function(
        """([id, name]) => [...document.querySelectorAll(
            `#board .column[data-column="${name}"] .tasks > .task`)]
            .some(card => Number(card.dataset.taskId) === id)""",
        arg=[task_id, column],
    )


async def wait_settled(page: Page, task_id: int) -> None:
    await page.wait_for_function("id => !window.watercooler.state.overlays.has(id)", arg=task_id)


async def real_move_reaches_everyone(scene: Scene, mover: Page, name: str, column: str) -> None:
    """A person drags a card; the board saves it; both tabs and the bot show it."""
    task = await scene.task_named(name)
    await drag_to(mover, task["id"], column)
    for tab in scene.tabs:
        await wait_in_column(tab.page, task["id"], column)
        await wait_settled(tab.page, task["id"])
    saved = await scene.task_named(name)
    assert (saved["status"], saved["version"]) == (column, task["version"] + 1)
    await wait_for(
        lambda: scene.bot.board_state.tasks[task["id"]]["version"] == saved["version"],
        "the bot to see the move",
    )


async def assert_nothing_forged_in_the_database(scene: Scene, *, phantom: int = 0) -> None:
    for task in await scene.all_tasks():
        for value in task.values():
            assert "Mallory" not in str(value), task
        assert task["id"] != phantom


def task_updated(task: dict[str, Any], message_id: str, **changes: Any) -> dict[str, Any]:
    return {"type": "task-updated", "id": message_id, "task": {**task, **changes}}
