"""The relay from the first moment, in Chromium (docs/protocol.md 2.6): a pair's messages go
through signaling until its channel is open, then over the channel, nothing lost or repeated; the
connection panel says which path each pair takes and why.

A tab opened without the camera/microphone permission gathers no ICE candidate in this
loopback-only namespace (Chromium lists no network interface without it, and there is no default
route to offer), so its direct link never comes up: the relay is all it has.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.board_page import (
    center,
    column,
    hover_column,
    pick_up,
    stats,
    wait_direct_links,
    wait_for,
    wait_in_column,
    wait_settled,
)
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.webrtc

OpenBoard = Callable[..., Page]
RELAYED_REASON = (
    r"^(no direct link within 10 s|connection failed|channel closed); messages go through signaling"
)


def only_link(page: Page) -> dict[str, Any]:
    (link,) = stats(page)["links"]
    return dict(link)


def test_a_newcomer_without_a_direct_link_sees_drags_at_once_and_the_panel_says_how(
    stack: Stack, open_board: OpenBoard
) -> None:
    dana = open_board("demo")
    task = stack.task_named("Task search")
    pick_up(dana, task["id"])
    hover_column(dana, "testing")

    # Sam's tab can never link directly. Dana's card, held over Testing, is on his board at once,
    # through the relay, while his link to her is still being negotiated.
    sam = open_board("sam", grant_media=False)
    ghost = column(sam, "testing").locator(f'.ghost[data-task-id="{task["id"]}"]')
    expect(ghost).to_be_visible()
    assert only_link(sam)["path"] == "connecting", "the drag did not wait for the direct link"
    row = sam.locator("#peer-links li[data-peer]")
    expect(row).to_have_attribute("data-path", "connecting")
    expect(row.locator(".path")).to_have_text("connecting")

    hover_column(dana, "done")
    expect(column(sam, "done").locator(f'.ghost[data-task-id="{task["id"]}"]')).to_be_visible()
    dana.mouse.up()
    wait_in_column(sam, task["id"], "done")
    wait_settled(dana, task["id"])
    counters = only_link(dana)["counters"]
    assert {"snapshot", "drag-hover", "drag-drop", "task-updated"} <= set(counters["sentRelay"])
    assert counters["sentDirect"] == {}

    # Once the direct link is given up on, both panels say "relayed", and why (not "new").
    for page in (dana, sam):
        row = page.locator("#peer-links li[data-peer]")
        expect(row).to_have_attribute("data-path", "relayed", timeout=25_000)
        expect(row.locator(".path")).to_have_text("relayed")
        expect(row.locator(".link-state")).to_have_text(re.compile(RELAYED_REASON))

    # Without signaling there is no channel and no relay: the pair has failed, and says so.
    stack.stop_signaling()
    for page in (dana, sam):
        row = page.locator("#peer-links li[data-peer]")
        expect(row).to_have_attribute("data-path", "failed")
        expect(row.locator(".path")).to_have_text("failed")


SENT_AND_RECEIVED = """() => {
    const [link] = window.watercooler.stats().links;
    const sum = (a, b) => {
        const out = {...a};
        for (const [type, n] of Object.entries(b)) out[type] = (out[type] ?? 0) + n;
        return out;
    };
    const c = link.counters;
    return {sent: sum(c.sentDirect, c.sentRelay), received: sum(c.receivedDirect, c.receivedRelay)};
}"""
COUNTED = ("hello", "snapshot", "drag-start", "drag-hover", "drag-drop", "task-updated")


def test_a_pair_switches_from_the_relay_to_its_channel_losing_and_repeating_nothing(
    stack: Stack, open_board: OpenBoard
) -> None:
    dana = open_board("demo")
    task = stack.task_named("Sign-up page copy")
    pick_up(dana, task["id"])
    hover_column(dana, "testing")
    sam = open_board("sam")  # its channel comes up: until then, the relay
    # Dana keeps moving the card while Sam's link comes up.
    x, y = center(column(dana, "testing"))
    for step in range(200):
        if only_link(sam)["path"] == "direct" and only_link(dana)["path"] == "direct":
            break
        dana.mouse.move(x + (step % 10) * 3, y + (step % 7) * 3)
    wait_direct_links(dana, 1)
    wait_direct_links(sam, 1)
    hover_column(dana, "in_progress")
    dana.mouse.up()
    wait_in_column(sam, task["id"], "in_progress")
    wait_settled(dana, task["id"])
    wait_settled(sam, task["id"])

    # Both paths carried Dana's messages to Sam: the relay before the channel, then the channel.
    counters = only_link(dana)["counters"]
    assert "snapshot" in counters["sentRelay"], counters
    assert {"hello", "drag-drop", "task-updated"} <= set(counters["sentDirect"]), counters

    # Every message Dana sent Sam was taken once (a duplicate would have been dropped unseen, so
    # equal counts also say none was sent twice).
    def counts() -> tuple[dict[str, int], dict[str, int]]:
        sent = dana.evaluate(SENT_AND_RECEIVED)["sent"]
        received = sam.evaluate(SENT_AND_RECEIVED)["received"]
        return ({t: sent.get(t, 0) for t in COUNTED}, {t: received.get(t, 0) for t in COUNTED})

    wait_for(lambda: counts()[0] == counts()[1], "Sam to have taken every message Dana sent")
    sent, received = counts()
    assert sent == received
    assert sent["drag-hover"] >= 1
    expect(sam.locator(".ghost")).to_have_count(0)
    expect(sam.locator(".remote-float")).to_have_count(0)
    expect(sam.locator(f'#board .task[data-task-id="{task["id"]}"].remote-drag')).to_have_count(0)
