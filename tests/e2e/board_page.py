"""What the browser tests read from and do to the board page, named for what they check."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page

WAIT_MS = 15_000  # bound for every wait in the page: channels, signaling, renders


def card(page: Page, task_id: int) -> Locator:
    return page.locator(f'#board .task[data-task-id="{task_id}"]')


def column(page: Page, name: str) -> Locator:
    return page.locator(f'#board .column[data-column="{name}"]')


def column_ids(page: Page, name: str) -> list[int]:
    ids = page.eval_on_selector_all(
        f'#board .column[data-column="{name}"] .tasks > .task',
        "cards => cards.map(card => Number(card.dataset.taskId))",
    )
    return [int(i) for i in ids]


def wait_in_column(page: Page, task_id: int, name: str, index: int | None = None) -> None:
    """Wait until the task's card is shown in column ``name`` (at ``index`` if given)."""
    page.wait_for_function(
        """([id, name, index]) => {
            const ids = [...document.querySelectorAll(
                `#board .column[data-column="${name}"] .tasks > .task`)]
                .map(card => Number(card.dataset.taskId));
            return index === null ? ids.includes(id) : ids[index] === id;
        }""",
        arg=[task_id, name, index],
        timeout=WAIT_MS,
    )


def wait_settled(page: Page, task_id: int) -> None:
    """Wait until no drop of the task is pending (the board answered)."""
    page.wait_for_function(
        "id => !window.watercooler.state.overlays.has(id)", arg=task_id, timeout=WAIT_MS
    )


def wait_direct_links(page: Page, count: int) -> None:
    """Wait until ``count`` peers are linked over an open data channel."""
    page.wait_for_function(
        """count => window.watercooler.stats().links
            .filter(link => link.path === "direct").length >= count""",
        arg=count,
        timeout=WAIT_MS,
    )


def stats(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("() => window.watercooler.stats()"))


def presence_user_ids(page: Page) -> list[str]:
    ids = page.eval_on_selector_all(
        "#presence .avatar", "avatars => avatars.map(a => a.dataset.userId)"
    )
    return [str(i) for i in ids]


def center(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None, "element is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def pick_up(page: Page, task_id: int) -> None:
    """Press the mouse on a card and move it a little: a drag has begun."""
    x, y = center(card(page, task_id))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 12, y + 8, steps=3)


def hover_column(page: Page, name: str) -> None:
    """Move the held card over the bottom of a column's list (real pointer events)."""
    target = column(page, name).locator(".tasks")
    box = target.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 4, steps=8)


def drag_to_column(page: Page, task_id: int, name: str) -> None:
    pick_up(page, task_id)
    hover_column(page, name)
    page.mouse.up()


def keyboard_move(page: Page, task_id: int, keys: list[str]) -> None:
    """Focus a card, pick it up with Space, press ``keys``, drop it with Space."""
    card(page, task_id).focus()
    page.keyboard.press("Space")
    for key in keys:
        page.keyboard.press(key)
    page.keyboard.press("Space")


def wait_for(condition: Callable[[], object], what: str, timeout_ms: int = WAIT_MS) -> None:
    """Poll ``condition`` (which may ask the pages) until it holds; fail after ``timeout_ms``."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms / 1000:g} s waiting for {what}")
        time.sleep(0.05)
