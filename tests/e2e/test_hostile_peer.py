"""A hostile peer in a sprint with two real Chromium tabs and the bot (docs/protocol.md 2.4).

Mallory runs a modified client: she joins like anyone (her own ticket, real data channels, the
real signaling server) and sends what no honest client would, once over her data channels and
once through signaling's relay. After each attack the tabs and the bot show exactly the board's
state, a real move (real pointer events) still reaches everyone, the database holds nothing she
forged, and no tab logged a console error or threw a page error.
"""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.hostile_scene import (
    MAX,
    PATHS,
    Scene,
    assert_nothing_forged_in_the_database,
    card,
    real_move_reaches_everyone,
    task_updated,
    wait_for,
    wait_in_column,
    wait_settled,
)

pytestmark = pytest.mark.webrtc
FORGED = "Forged by Mallory"


@PATHS
async def test_a_forged_task_state_is_never_shown_and_real_moves_still_work(
    scene: Scene, via: str
) -> None:
    task = await scene.task_named("Sign-up page copy")  # Not Started
    scene.attack(task_updated(task, "m:1", name=FORGED, status="done", version=MAX), via)
    await scene.handled(via)
    for tab in scene.tabs:
        await expect(tab.page.locator("#board")).not_to_contain_text(FORGED)
        await wait_in_column(tab.page, task["id"], "not_started")
    await scene.assert_everyone_shows_the_board()

    # Sam, who received the forgery, moves the card: the board takes it (no 409 at a forged
    # version), and Dana and the bot see the move.
    await real_move_reaches_everyone(scene, scene.sam.page, "Sign-up page copy", "in_progress")
    await expect(scene.sam.page.locator(".notice.error")).to_have_count(0)
    await scene.sam.page.reload()
    await wait_in_column(scene.sam.page, task["id"], "in_progress")
    await expect(scene.sam.page.locator("#board")).not_to_contain_text(FORGED)
    await scene.assert_everyone_shows_the_board()
    assert not [line for line in scene.bot_lines() if FORGED in str(line)]
    await assert_nothing_forged_in_the_database(scene)
    scene.assert_no_page_errors()


@PATHS
async def test_a_forged_description_is_never_saved_by_the_victims_edit(
    scene: Scene, via: str
) -> None:
    task = await scene.task_named("CSV export")
    version = task["version"]
    forged = {"description": "Forged by Mallory: wire the money", "version": version + 1}
    scene.attack(task_updated(task, "m:1", **forged), via)
    await scene.handled(via)
    # Someone saves the task for real, bringing the board to the version Mallory named; then
    # another task changes. The board posts its events in order and signaling keeps their order,
    # so once Dana's tab shows the second change it has handled the first.
    renamed = {"name": "CSV export, reviewed", "version": version}
    await scene.api("PATCH", f"/api/tasks/{task['id']}/", renamed, user="sam")
    marker = await scene.task_named("Login page")
    await scene.api("PATCH", f"/api/tasks/{marker['id']}/", {"name": "Login page, done"})
    dana = scene.dana.page
    await expect(card(dana, marker["id"])).to_contain_text("Login page, done")

    # Dana changes only the due date in the task dialog.
    await card(dana, task["id"]).hover()
    await card(dana, task["id"]).locator("button.edit").click()
    dialog = dana.locator("#task-dialog")
    await dialog.locator("input[name=due]").fill("2026-07-01")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog).to_be_hidden()

    saved = await scene.api("GET", f"/api/tasks/{task['id']}/")
    assert saved["description"] == task["description"], "the forged description was not saved"
    assert saved["name"] == "CSV export, reviewed", "the real rename was not overwritten"
    assert (saved["due"], saved["version"]) == ("2026-07-01", version + 2)
    await expect(card(dana, task["id"])).to_contain_text("CSV export, reviewed")
    await scene.assert_everyone_shows_the_board()
    await assert_nothing_forged_in_the_database(scene)
    scene.assert_no_page_errors()


@PATHS
async def test_no_phantom_card_and_no_other_sprints_task_appears(scene: Scene, via: str) -> None:
    other = await scene.api("POST", "/api/sprints/", {"name": "Other sprint", "end": "2030-01-01"})
    foreign = await scene.api(
        "POST", "/api/tasks/", {"name": "Foreign task", "sprint": other["id"]}
    )
    template = await scene.task_named("Task search")
    phantom = {**template, "id": 999_999, "name": "Phantom by Mallory", "status": "testing"}
    scene.attack(task_updated(phantom, "m:1"), via)
    scene.attack(task_updated(foreign, "m:2", version=foreign["version"] + 1), via)
    await scene.handled(via)

    for tab in scene.tabs:
        await expect(card(tab.page, 999_999)).to_have_count(0)
        await expect(card(tab.page, foreign["id"])).to_have_count(0)
    assert 999_999 not in scene.bot.board_state.tasks
    assert foreign["id"] not in scene.bot.board_state.tasks
    printed = [line for line in scene.bot_lines() if line["event"] == "task-updated"]
    assert [line for line in printed if line["task"]["id"] in (999_999, foreign["id"])] == []
    await real_move_reaches_everyone(scene, scene.dana.page, "Task search", "testing")
    await scene.assert_everyone_shows_the_board()
    await assert_nothing_forged_in_the_database(scene, phantom=999_999)
    scene.assert_no_page_errors()


@PATHS
async def test_wrong_typed_fields_cannot_stop_the_board_from_updating(
    scene: Scene, via: str
) -> None:
    first = await scene.task_named("Password reset e-mail")
    second = await scene.task_named("Sprint burndown chart")
    # An object no template string can print, and a number where a name goes.
    unprintable = {"toString": None, "valueOf": None}
    scene.attack(task_updated(first, "m:1", due=unprintable, version=first["version"] + 1), via)
    scene.attack(task_updated(second, "m:2", assignee_name=5, version=second["version"] + 1), via)
    await scene.handled(via)

    await real_move_reaches_everyone(scene, scene.dana.page, "Password reset e-mail", "done")
    await real_move_reaches_everyone(scene, scene.sam.page, "Sprint burndown chart", "testing")
    for tab in scene.tabs:
        # Every card is drawn whole: a title and its assignee line.
        cards = tab.page.locator("#board .task")
        await expect(cards.locator(".meta .assignee")).to_have_count(await cards.count())
        await expect(card(tab.page, second["id"])).to_contain_text("Sam Second")
    await scene.assert_everyone_shows_the_board()
    scene.assert_no_page_errors()


@PATHS
async def test_another_peers_message_ids_cannot_silence_it(scene: Scene, via: str) -> None:
    # Dana's ids are "<session>:<seq>" and Mallory has seen them: she sends harmless messages
    # with Dana's next ids to Sam and the bot before Dana uses them.
    session, _, seq = scene.mallory.last_id(scene.dana.peer).partition(":")
    for n in range(int(seq) + 1, int(seq) + 26):
        message = {"type": "ping", "id": f"{session}:{n}", "t": 1}
        for peer in (scene.sam.peer, scene.bot.peer):
            scene.mallory.send(peer, message, via)
    await scene.handled(via)

    task = await scene.task_named("Drag and drop on the board")
    dana = scene.dana.page
    box = await card(dana, task["id"]).bounding_box()
    assert box is not None
    await dana.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await dana.mouse.down()
    await dana.mouse.move(box["x"] + box["width"] / 2 + 12, box["y"] + 10, steps=3)
    ghost = scene.sam.page.locator(f'#board .ghost[data-task-id="{task["id"]}"]')
    await expect(ghost).to_contain_text("Dana Demo")
    await wait_for(
        lambda: any(
            e.person.peer == scene.dana.peer and e.task == task["id"] for e in scene.bot_drags
        ),
        "the bot to see Dana's drag",
    )
    await dana.mouse.up()
    for tab in scene.tabs:
        await wait_settled(tab.page, task["id"])
    await real_move_reaches_everyone(scene, dana, "Drag and drop on the board", "done")
    await scene.assert_everyone_shows_the_board()
    scene.assert_no_page_errors()
