"""The card someone else drags follows their pointer (docs/protocol.md 2.3.1), in Chromium.

Dana's window and Sam's have different sizes: the pointer travels in board terms (a column and
fractions across and down it), so Sam draws Dana's card at the same spot of the same column.
Real pointer events; positions, not timings, are checked (speed is measured in bench/live.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.board_page import WAIT_MS, card, column, pick_up, wait_direct_links, wait_settled
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.webrtc

OpenBoard = Callable[..., Page]
# How far (a fraction of the column's size) the drawn card may be from the spot: the windows
# differ in size, so card heights, and with them the column's height, may differ a little.
TOLERANCE = 0.04

FLOAT_AT = """([task, column, x, y, tolerance]) => {
    const float = document.querySelector(`#board .remote-float[data-task-id="${task}"]`);
    const section = document.querySelector(`#board .column[data-column="${column}"]`);
    if (!float || !section) return false;
    const box = float.getBoundingClientRect();
    const rect = section.getBoundingClientRect();
    const cx = (box.left + box.width / 2 - rect.left) / rect.width;
    const cy = (box.top + box.height / 2 - rect.top) / rect.height;
    return Math.abs(cx - x) <= tolerance && Math.abs(cy - y) <= tolerance;
}"""


def point_in(page: Page, name: str, x: float, y: float) -> tuple[float, float]:
    box = column(page, name).bounding_box()
    assert box is not None
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def wait_float_at(page: Page, task_id: int, name: str, x: float, y: float) -> None:
    page.wait_for_function(FLOAT_AT, arg=[task_id, name, x, y, TOLERANCE], timeout=WAIT_MS)


def test_the_other_tab_draws_the_card_under_the_draggers_pointer(
    stack: Stack, open_board: OpenBoard
) -> None:
    dana = open_board("demo", viewport=(1400, 900))
    sam = open_board("sam", viewport=(1150, 760))
    wait_direct_links(dana, 1)
    wait_direct_links(sam, 1)
    task = stack.task_named("CSV export")

    pick_up(dana, task["id"])
    for name, x, y in (("testing", 0.3, 0.6), ("done", 0.8, 0.2), ("backlog", 0.5, 0.9)):
        dana.mouse.move(*point_in(dana, name, x, y), steps=6)
        wait_float_at(sam, task["id"], name, x, y)
        # Where it would land is still shown in that column, as before.
        expect(column(sam, name).locator(f'.ghost[data-task-id="{task["id"]}"]')).to_have_count(1)
    expect(sam.locator(".remote-float")).to_have_count(1)
    expect(sam.locator(".remote-float")).to_contain_text("Dana Demo")

    dana.mouse.up()
    wait_settled(dana, task["id"])
    expect(sam.locator(".remote-float")).to_have_count(0)
    expect(sam.locator(".ghost")).to_have_count(0)


def test_a_keyboard_drag_has_no_pointer_to_follow(stack: Stack, open_board: OpenBoard) -> None:
    dana = open_board("demo")
    sam = open_board("sam")
    wait_direct_links(sam, 1)
    task = stack.task_named("Task search")
    card(dana, task["id"]).focus()
    dana.keyboard.press("Space")
    dana.keyboard.press("ArrowRight")
    expect(
        column(sam, "in_progress").locator(f'.ghost[data-task-id="{task["id"]}"]')
    ).to_be_visible()
    expect(sam.locator(".remote-float")).to_have_count(0)
    dana.keyboard.press("Escape")
    expect(sam.locator(".ghost")).to_have_count(0)
