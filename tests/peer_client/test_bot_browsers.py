"""The bot next to two Chromium tabs on one sprint: a three-way mesh of browsers and aiortc.

Real processes: the board (gunicorn), signaling (allowing the board's origin), Debian's Chromium
(camera/microphone granted and ``--allow-loopback-in-peer-connection``, or it offers no candidate
on loopback; docs/webrtc.md) and the bot (``--loopback-only``). Playwright's
async API, so this test shares pytest-asyncio's loop with the rest of the suite. Tabs are driven
with real pointer events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, Page, async_playwright

from peer_client.board_api import BoardClient
from tests.peer_client.board_stack import PASSWORD, BoardStack, task_named
from tests.support.bot import Bot
from tools.chromium import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.webrtc

WAIT_MS = 15_000
TASK = "Sprint burndown chart"  # seeded in "In progress"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


OpenTab = Callable[[str], Awaitable[Page]]


@pytest.fixture
async def open_tab(browser: Browser, board_stack: BoardStack) -> OpenTab:
    """``await open_tab("demo")``: a logged-in tab (its own context) on the sprint's board."""

    async def open_as(username: str) -> Page:
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        await context.grant_permissions(["camera", "microphone"], origin=board_stack.url)
        context.set_default_timeout(WAIT_MS)
        page = await context.new_page()
        await page.goto(f"{board_stack.url}/login/?next=/sprints/{board_stack.sprint}/")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"**/sprints/{board_stack.sprint}/")
        await page.wait_for_function("() => window.watercooler?.state.tasks.size > 0")
        return page

    return open_as


async def wait_direct_links(page: Page, count: int) -> None:
    await page.wait_for_function(
        """count => window.watercooler.stats().links
            .filter(link => link.path === "direct").length >= count""",
        arg=count,
    )


async def wait_in_column(page: Page, task_id: int, column: str, index: int) -> None:
    await page.wait_for_function(
        """([id, name, index]) => [...document.querySelectorAll(
                `#board .column[data-column="${name}"] .tasks > .task`)]
                .map(card => Number(card.dataset.taskId))[index] === id""",
        arg=[task_id, column, index],
    )


async def wait_settled(page: Page, task_id: int) -> None:
    await page.wait_for_function("id => !window.watercooler.state.overlays.has(id)", arg=task_id)


async def pointer_to(page: Page, selector: str, *, down: bool = False) -> None:
    box = await page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not visible"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 6
    await page.mouse.move(x, y, steps=8)
    if down:
        await page.mouse.down()
        await page.mouse.move(x + 12, y + 8, steps=3)


async def watch_marker(page: Page, task_id: int, name: str) -> None:
    """Record in the page (``window.__botMarker``) each column where a ghost of ``task_id`` by
    ``name`` appears, and whether its card was marked as being moved by ``name``."""
    await page.evaluate(
        """([id, name]) => {
            const seen = window.__botMarker = {ghostIn: [], cardMarked: false};
            const look = () => {
                const ghosts = document.querySelectorAll(`#board .ghost[data-task-id="${id}"]`);
                for (const ghost of ghosts) {
                    const where = ghost.closest(".column")?.dataset.column;
                    const fresh = where && seen.ghostIn.at(-1) !== where;
                    if (ghost.textContent.includes(name) && fresh) seen.ghostIn.push(where);
                }
                const card = document.querySelector(`#board .task[data-task-id="${id}"]`);
                const text = card ? card.textContent : "";
                if (text.includes(`${name} is moving this`)) seen.cardMarked = true;
            };
            new MutationObserver(look).observe(document.body, {
                subtree: true, childList: true, characterData: true, attributes: true,
            });
        }""",
        [task_id, name],
    )


async def test_two_tabs_and_the_bot_share_drags_and_moves(
    board_stack: BoardStack, open_tab: OpenTab
) -> None:
    api = BoardClient(board_stack.url)
    await api.login("demo", PASSWORD)
    try:
        task = task_named(await api.tasks(board_stack.sprint), TASK)
        task_id = task["id"]
        dana = await open_tab("demo")
        sam = await open_tab("sam")
        card = f'#board .task[data-task-id="{task_id}"]'

        # 1. A watching bot makes a three-way mesh and sees a tab's drag.
        watcher = await Bot.start(board_stack.bot_command("--loopback-only", "--json", user="robo"))
        try:
            for page in (dana, sam):
                await wait_direct_links(page, 2)
                await page.locator("#presence .avatar").nth(2).wait_for()
            await watcher.wait_line("link", lambda line: line["name"] == "Sam Second")
            await watcher.wait_line("link", lambda line: line["name"] == "Dana Demo")
            await pointer_to(dana, card, down=True)
            await pointer_to(dana, '#board .column[data-column="done"] .tasks')
            hover = await watcher.wait_line(
                "drag", lambda line: line["kind"] == "hover" and line["place"]["column"] == "done"
            )
            assert (hover["name"], hover["task"]) == ("Dana Demo", task_id)
            await pointer_to(dana, '#board .column[data-column="in_progress"] .tasks')
            await dana.mouse.up()  # dropped back where it was
            await watcher.wait_line("drag", lambda line: line["kind"] in ("drop", "cancel"))
            await wait_settled(dana, task_id)
            watcher.process.send_signal(2)  # SIGINT
            assert await watcher.wait(15) == 0
        finally:
            await watcher.kill()
        task = task_named(await api.tasks(board_stack.sprint), TASK)
        for page in (dana, sam):
            await page.wait_for_function(
                "() => document.querySelectorAll('#presence .avatar').length === 2"
            )

        # 2. An acting bot: both tabs see its marker follow its drag, then its move, which the
        #    board keeps. Each tab records what it shows (a marker lasts one --step).
        for page in (dana, sam):
            await watch_marker(page, task_id, "Robo Bot")
        actor = await Bot.start(
            board_stack.bot_command(
                "--loopback-only",
                "--json",
                "--wait-peers",
                "2",
                "--drag",
                f"{task_id}:testing,in_progress",
                "--move",
                f"{task_id}:done:0",
                "--step",
                "1",
                "--once",
                user="robo",
            )
        )
        try:
            for page in (dana, sam):
                await wait_in_column(page, task_id, "done", 0)
                await wait_settled(page, task_id)
            assert await actor.wait() == 0, await actor.stderr()
        finally:
            await actor.kill()
        for page in (dana, sam):
            seen = await page.evaluate("() => window.__botMarker")
            # Picked up in In progress, over Testing, back over In progress, put back; picked up
            # again, over Done, dropped.
            assert seen["ghostIn"] == ["in_progress", "testing", "in_progress", "done"], seen
            assert seen["cardMarked"], seen
        (moved,) = actor.events("moved")
        assert moved["task"]["status"] == "done"
        saved = task_named(await api.tasks(board_stack.sprint), TASK)
        assert (saved["status"], saved["position"]) == ("done", 0)
        assert saved["version"] == task["version"] + 1
    finally:
        await api.close()


LINK_PATH_OF = """name => window.watercooler.stats().links
    .find(link => link.name === name)?.path ?? null"""


async def test_a_bot_without_a_direct_link_and_a_tab_see_each_others_drags_at_once(
    board_stack: BoardStack, open_tab: OpenTab
) -> None:
    """Without --loopback-only the bot gathers no ICE candidate in this loopback-only namespace,
    so it can never link directly with the tab: from its first moment, their drags go through
    the relay, in both directions, long before the pair would count as relayed (10 s)."""
    api = BoardClient(board_stack.url)
    await api.login("demo", PASSWORD)
    try:
        tasks = await api.tasks(board_stack.sprint)
        bots, danas = task_named(tasks, TASK)["id"], task_named(tasks, "CSV export")["id"]
        dana = await open_tab("demo")
        bot = await Bot.start(
            board_stack.bot_command(
                "--json", "--drag", f"{bots}:testing,done", "--step", "3", "--once", user="robo"
            )
        )
        try:
            # The bot picks its card up as soon as it joined: Dana sees it while still connecting.
            await dana.locator(f'#board .task.remote-drag[data-task-id="{bots}"]').wait_for()
            assert await dana.evaluate(LINK_PATH_OF, "Robo Bot") == "connecting"
            # Dana's drag reaches the bot the same way.
            await pointer_to(dana, f'#board .task[data-task-id="{danas}"]', down=True)
            await pointer_to(dana, '#board .column[data-column="done"] .tasks')
            hover = await bot.wait_line(
                "drag",
                lambda line: (
                    (line["name"], line["kind"]) == ("Dana Demo", "hover")
                    and line["place"]["column"] == "done"
                ),
            )
            assert hover["task"] == danas
            assert not [line for line in bot.events("link") if line["state"] != "connecting"], (
                "the bot saw Dana's drag before its link was anything but connecting"
            )
            assert await dana.evaluate(LINK_PATH_OF, "Robo Bot") == "connecting"
            await dana.mouse.up()
            await wait_settled(dana, danas)
            assert await bot.wait() == 0, await bot.stderr()
        finally:
            await bot.kill()
        await dana.wait_for_function(
            'id => !document.querySelector(`#board .task.remote-drag[data-task-id="${id}"]`)',
            arg=bots,
        )
        assert "direct" not in [line["state"] for line in bot.events("link")]
    finally:
        await api.close()
