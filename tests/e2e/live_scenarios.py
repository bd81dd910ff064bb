"""The live board's core scenarios, run by ``test_board_live`` (development settings) and again
by ``test_board_production`` (production settings, the Content-Security-Policy on): two tabs on
one sprint, real pointer events and keys, the board and signaling as real processes."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.board_page import (
    WAIT_MS,
    card,
    column,
    column_ids,
    hover_column,
    keyboard_move,
    pick_up,
    presence_user_ids,
    wait_direct_links,
    wait_in_column,
    wait_settled,
)
from tests.e2e.conftest import Stack

OpenBoard = Callable[..., Page]


def user_id(stack: Stack, username: str) -> str:
    users = stack.api("GET", "/api/users/")["results"]
    return str(next(user["id"] for user in users if user["username"] == username))


def two_tabs(open_board: OpenBoard) -> tuple[Page, Page]:
    """Dana (demo) and Sam on the demo sprint, linked by an open data channel."""
    dana = open_board("demo")
    sam = open_board("sam")
    wait_direct_links(dana, 1)
    wait_direct_links(sam, 1)
    return dana, sam


def presence(stack: Stack, open_board: OpenBoard) -> None:
    dana, sam = two_tabs(open_board)
    dana_id, sam_id = user_id(stack, "demo"), user_id(stack, "sam")

    expect(dana.locator(f'#presence .avatar[data-user-id="{sam_id}"]')).to_have_text("SS")
    expect(sam.locator(f'#presence .avatar[data-user-id="{dana_id}"]')).to_have_text("DD")
    assert presence_user_ids(dana) == [dana_id, sam_id], "we come first, then the others"
    # Both compute the same colour for a person (FNV-1a of the user id, docs/protocol.md 2.5).
    colour = "getComputedStyle(document.querySelector('#presence .avatar[data-user-id=\"{}\"]'))"
    dana_sees = dana.evaluate(colour.format(sam_id) + ".backgroundColor")
    sam_sees = sam.evaluate(colour.format(sam_id) + ".backgroundColor")
    assert dana_sees == sam_sees

    # The indicator lists the other peer as a direct link with a round-trip time from getStats.
    link = dana.locator("#peer-links li[data-path=direct]")
    expect(link).to_have_count(1)
    dana.wait_for_function(
        "() => window.watercooler.stats().links.every(link => link.rttMs !== null)",
        timeout=WAIT_MS,
    )
    dana.click("#live-status")
    expect(link.locator(".rtt")).to_have_text(re.compile(r"^[\d.]+ ms$"))
    # The panel is a popover: Escape closes it, and so does a click anywhere else on the page,
    # so it never stays over the cards it covers.
    panel = dana.locator("details.live")
    dana.keyboard.press("Escape")
    expect(panel).not_to_have_attribute("open", "")
    dana.click("#live-status")
    expect(panel).to_have_attribute("open", "")
    dana.locator("h1").first.click()
    expect(panel).not_to_have_attribute("open", "")

    sam.context.close()  # Sam leaves: gone from Dana's presence at once (peer-left)
    expect(dana.locator(f'#presence .avatar[data-user-id="{sam_id}"]')).to_have_count(0)
    expect(dana.locator("#peer-links li[data-peer]")).to_have_count(0)


def drag_shown_live_then_persisted(stack: Stack, open_board: OpenBoard) -> None:
    dana, sam = two_tabs(open_board)
    task = stack.task_named("Sign-up page copy")
    assert task["status"] == "not_started"

    pick_up(dana, task["id"])
    hover_column(dana, "testing")
    # While Dana holds the card over Testing, Sam sees it marked as moved by Dana, over Testing.
    ghost = column(sam, "testing").locator(f'.ghost[data-task-id="{task["id"]}"]')
    expect(ghost).to_be_visible()
    expect(ghost).to_contain_text("Dana Demo")
    expect(card(sam, task["id"])).to_have_class(re.compile(r"\bremote-drag\b"))
    expect(card(sam, task["id"])).to_contain_text("Dana Demo is moving this")
    # Dana's own placeholder is in Testing too.
    expect(column(dana, "testing").locator(".placeholder")).to_have_count(1)
    # Someone who opens the board now gets the drag in progress from Dana's snapshot.
    late = open_board("sam")
    expect(column(late, "testing").locator(f'.ghost[data-task-id="{task["id"]}"]')).to_be_visible()

    hover_column(dana, "in_progress")
    expect(
        column(sam, "in_progress").locator(f'.ghost[data-task-id="{task["id"]}"]')
    ).to_be_visible()
    expect(column(sam, "testing").locator(".ghost")).to_have_count(0)

    dana.mouse.up()
    wait_in_column(sam, task["id"], "in_progress")
    wait_in_column(late, task["id"], "in_progress")
    expect(sam.locator(".ghost")).to_have_count(0)
    wait_settled(dana, task["id"])
    saved = stack.api("GET", f"/api/tasks/{task['id']}/")
    assert saved["status"] == "in_progress"
    assert saved["version"] == task["version"] + 1
    wait_settled(sam, task["id"])
    index = column_ids(dana, "in_progress").index(task["id"])
    assert column_ids(sam, "in_progress") == column_ids(dana, "in_progress")

    for page in (dana, sam):
        page.reload()
        page.wait_for_function(
            "() => window.watercooler && window.watercooler.state.tasks.size > 0"
        )
        wait_in_column(page, task["id"], "in_progress", index)


def keyboard_move_reaches_the_other_tab(stack: Stack, open_board: OpenBoard) -> None:
    dana, sam = two_tabs(open_board)
    task = stack.task_named("Task search")  # Not Started
    # Space picks it up, two columns right (Testing), Space drops it at the top.
    card(dana, task["id"]).focus()
    dana.keyboard.press("Space")
    dana.keyboard.press("ArrowRight")
    dana.keyboard.press("ArrowRight")
    dana.keyboard.press("ArrowUp")
    expect(column(sam, "testing").locator(f'.ghost[data-task-id="{task["id"]}"]')).to_be_visible()
    dana.keyboard.press("Space")

    wait_in_column(sam, task["id"], "testing", 0)
    wait_in_column(dana, task["id"], "testing", 0)
    wait_settled(dana, task["id"])
    assert stack.api("GET", f"/api/tasks/{task['id']}/")["status"] == "testing"
    expect(card(dana, task["id"])).to_be_focused()

    # Escape puts a picked-up card back and tells the other tab the drag ended.
    keyboard_move(dana, task["id"], [])  # picking up and dropping in place changes nothing
    card(dana, task["id"]).focus()
    dana.keyboard.press("Space")
    dana.keyboard.press("ArrowLeft")
    expect(column(sam, "in_progress").locator(".ghost")).to_have_count(1)
    dana.keyboard.press("Escape")
    expect(sam.locator(".ghost")).to_have_count(0)
    wait_in_column(dana, task["id"], "testing", 0)
    assert stack.api("GET", f"/api/tasks/{task['id']}/")["version"] == task["version"] + 1


def task_edited_through_the_api(stack: Stack, open_board: OpenBoard) -> None:
    dana, sam = two_tabs(open_board)
    task = stack.task_named("Drag and drop on the board")
    stack.api(
        "PATCH",
        f"/api/tasks/{task['id']}/",
        {"name": "Drag and drop, live", "status": "testing"},
        user="sam",
    )
    for page in (dana, sam):
        expect(card(page, task["id"])).to_contain_text("Drag and drop, live")
        wait_in_column(page, task["id"], "testing")


def edit_dialog_saves(stack: Stack, open_board: OpenBoard) -> None:
    dana, sam = two_tabs(open_board)
    task = stack.task_named("CSV export")
    card(dana, task["id"]).hover()
    card(dana, task["id"]).locator("button.edit").click()
    dialog = dana.locator("#task-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=name]").fill("CSV and JSON export")
    dialog.locator("select[name=assignee]").select_option(label="Dana Demo")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    for page in (dana, sam):
        expect(card(page, task["id"])).to_contain_text("CSV and JSON export")
        expect(card(page, task["id"])).to_contain_text("Dana Demo")

    # A new backlog task (backlog tasks have no sprint room, so only the peers tell Sam).
    dana.fill(".add-task input", "Onboarding checklist")
    dana.press(".add-task input", "Enter")
    expect(column(sam, "backlog")).to_contain_text("Onboarding checklist")
    assert stack.task_named("Onboarding checklist")["sprint"] is None
