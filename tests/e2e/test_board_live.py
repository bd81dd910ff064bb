"""The live board in Chromium: two tabs on one sprint, peer to peer.

Real processes: the board (gunicorn), signaling, Debian's Chromium. Drags are driven with real
pointer events (``page.mouse``) or the keyboard, never by calling the page's functions.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import live_scenarios
from tests.e2e.board_page import (
    WAIT_MS,
    card,
    column,
    column_ids,
    drag_to_column,
    hover_column,
    keyboard_move,
    pick_up,
    stats,
    wait_direct_links,
    wait_in_column,
    wait_settled,
)
from tests.e2e.conftest import Stack, wait_live_status
from tests.e2e.live_scenarios import OpenBoard, two_tabs

pytestmark = pytest.mark.webrtc

DRAG_TYPES = {"drag-start", "drag-hover", "drag-drop"}


MARK_OLD_CHANNELS = """() => {
    for (const link of window.watercooler.mesh.links.values())
        for (const channel of link.channels) channel.beforeBlip = true;
}"""
NEW_CHANNEL_OPEN = """() => {
    const links = [...window.watercooler.mesh.links.values()];
    return links.length === 1 && links[0].openChannel !== undefined
        && !links[0].openChannel.beforeBlip;
}"""
# Sam's tab takes its link to Dana out of the mesh on peer-left, as the protocol says, but holds
# the connection open until the test closes it: the close reaches Dana after her welcome.
HOLD_CLOSE_ON_PEER_LEFT = """() => {
    const mesh = window.watercooler.mesh;
    const left = mesh.left;
    window.heldLinks = [];
    mesh.left = (peer) => {
        mesh.left = left;
        const link = mesh.links.get(peer);
        if (!link) return false;
        mesh.links.delete(peer);
        window.heldLinks.push(link);
        mesh.options.onChange();
        return true;
    };
}"""


def test_two_tabs_see_each_others_presence(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.presence(stack, open_board)


def test_drag_is_shown_live_then_persisted(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.drag_shown_live_then_persisted(stack, open_board)


def test_keyboard_move_reaches_the_other_tab(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.keyboard_move_reaches_the_other_tab(stack, open_board)


def test_task_edited_through_the_api_appears_in_both_tabs(
    stack: Stack, open_board: OpenBoard
) -> None:
    live_scenarios.task_edited_through_the_api(stack, open_board)


def test_edit_dialog_saves_and_the_other_tab_follows(stack: Stack, open_board: OpenBoard) -> None:
    live_scenarios.edit_dialog_saves(stack, open_board)


def test_drag_traffic_goes_over_the_data_channel_not_signaling(
    stack: Stack, open_board: OpenBoard
) -> None:
    dana, sam = two_tabs(open_board)
    first = stack.task_named("Password reset e-mail")
    second = stack.task_named("CSV export")
    signaling_sent_before = stats(dana)["signalingMessagesSent"]

    drag_to_column(dana, first["id"], "done")
    wait_in_column(sam, first["id"], "done")
    keyboard_move(sam, second["id"], ["ArrowLeft"])
    wait_in_column(dana, second["id"], "in_progress")
    for page in (dana, sam):
        wait_settled(page, first["id"])
        wait_settled(page, second["id"])

    # The page's own counters: every drag message went over the channel, none through the relay.
    (dana_link,) = stats(dana)["links"]
    (sam_link,) = stats(sam)["links"]
    assert dana_link["path"] == sam_link["path"] == "direct"
    for link in (dana_link, sam_link):
        counters = link["counters"]
        assert set(counters["sentDirect"]) >= DRAG_TYPES, counters
        assert set(counters["receivedDirect"]) >= DRAG_TYPES, counters
        assert counters["sentRelay"] == {}, counters
        assert counters["receivedRelay"] == {}, counters
        assert counters["sentDirect"]["task-updated"] >= 1
    # Dana sent nothing at all to signaling while dragging (signaling only introduces peers).
    assert stats(dana)["signalingMessagesSent"] == signaling_sent_before

    # Signaling's side: no relayed bytes, no relay message in, and no relay line in its log.
    metrics = stack.metrics()
    relay_bytes = re.search(
        r'^watercooler_relayed_bytes_total\{kind="relay"\} (\S+)$', metrics, re.M
    )
    assert relay_bytes is None or float(relay_bytes.group(1)) == 0.0, metrics
    relay_in = re.search(
        r'^watercooler_messages_total\{direction="in",type="relay"\} (\S+)$', metrics, re.M
    )
    assert relay_in is None or float(relay_in.group(1)) == 0.0, metrics
    stack.stop_signaling()
    log = stack.signaling_logs[-1]
    assert " signal " in log, "the log does record negotiation (so it is the right log)"
    assert not re.search(r"\brelay\b", log), log


def test_conflicting_moves_end_with_the_servers_state(stack: Stack, open_board: OpenBoard) -> None:
    dana, sam = two_tabs(open_board)
    task = stack.task_named("Sprint burndown chart")  # In Progress
    # Both pick the same card up (same version), then drop it in different columns at once.
    for page, key in ((dana, "ArrowRight"), (sam, "ArrowLeft")):
        card(page, task["id"]).focus()
        page.keyboard.press("Space")
        page.keyboard.press(key)
    dana.keyboard.press("Space")
    sam.keyboard.press("Space")

    for page in (dana, sam):
        wait_settled(page, task["id"])
    server = stack.api("GET", f"/api/tasks/{task['id']}/")
    assert server["version"] == task["version"] + 1, "exactly one move was saved"
    assert server["status"] in {"testing", "not_started"}
    for page in (dana, sam):
        wait_in_column(page, task["id"], server["status"])
        page.wait_for_function(
            "([id, v]) => window.watercooler.state.tasks.get(id).version === v",
            arg=[task["id"], server["version"]],
            timeout=WAIT_MS,
        )
    loser = sam if server["status"] == "testing" else dana
    expect(loser.locator(".notice.error")).to_contain_text("Move not saved")
    assert column_ids(dana, server["status"]) == column_ids(sam, server["status"])


def test_a_move_the_board_refuses_is_undone_in_both_tabs(
    stack: Stack, open_board: OpenBoard
) -> None:
    """A rule refuses the drop (400, not a conflict): the card goes back in both tabs and the
    one who dropped it is told which rule, in the board's words."""
    dana, sam = two_tabs(open_board)
    task = stack.task_named("Login page")  # Done: a Done task can't change sprint
    assert task["status"] == "done"
    done_ids = column_ids(sam, "done")

    pick_up(dana, task["id"])
    hover_column(dana, "backlog")  # the backlog is no sprint: refused on the drop
    ghost = column(sam, "backlog").locator(f'.ghost[data-task-id="{task["id"]}"]')
    expect(ghost).to_be_visible()
    dana.mouse.up()

    expect(dana.locator(".notice.error")).to_contain_text(
        "Move not saved: sprint: A Done task can't change sprint."
    )
    for page in (dana, sam):
        wait_settled(page, task["id"])
        wait_in_column(page, task["id"], "done")
        expect(page.locator(".ghost")).to_have_count(0)
        expect(card(page, task["id"])).not_to_have_class(re.compile(r"\bremote-drag\b"))
    expect(sam.locator(".notice.error")).to_have_count(0)  # only the one who dropped it
    assert column_ids(sam, "done") == done_ids == column_ids(dana, "done")
    saved = stack.api("GET", f"/api/tasks/{task['id']}/")
    assert (saved["status"], saved["sprint"], saved["version"]) == (
        "done",
        task["sprint"],
        task["version"],
    ), "nothing was saved"


def test_signaling_down_moves_still_save_and_live_recovers(
    stack: Stack, open_board: OpenBoard
) -> None:
    dana = open_board("demo")
    dana_peer = stats(dana)["peer"]
    stack.stop_signaling()
    wait_live_status(dana, "off")
    expect(dana.locator("#live-status")).to_have_text("Live updates off")

    task = stack.task_named("Write the release notes")  # Backlog
    drag_to_column(dana, task["id"], "not_started")
    wait_settled(dana, task["id"])
    assert stack.api("GET", f"/api/tasks/{task['id']}/")["status"] == "not_started"
    assert stack.api("GET", f"/api/tasks/{task['id']}/")["sprint"] == stack.sprint
    expect(dana.locator(".notice.error")).to_have_count(0)

    # Sam opens the board while signaling is down: it loads over REST, live updates are off.
    sam = open_board("sam", wait_live=False)
    wait_in_column(sam, task["id"], "not_started")
    wait_live_status(sam, "off")

    stack.start_signaling()  # a new process on the same port
    wait_live_status(dana, "live")
    wait_live_status(sam, "live")
    assert stats(dana)["peer"] == dana_peer, "Dana resumed her peer id"
    wait_direct_links(dana, 1)
    wait_direct_links(sam, 1)

    # Live drags work again, without a reload.
    second = stack.task_named("Dark mode")
    pick_up(dana, second["id"])
    hover_column(dana, "in_progress")
    expect(
        column(sam, "in_progress").locator(f'.ghost[data-task-id="{second["id"]}"]')
    ).to_be_visible()
    dana.mouse.up()
    wait_in_column(sam, second["id"], "in_progress")
    wait_settled(dana, second["id"])
    assert stack.api("GET", f"/api/tasks/{second['id']}/")["status"] == "in_progress"


def test_pair_without_a_direct_link_falls_back_to_the_relay(
    stack: Stack, open_board: OpenBoard
) -> None:
    # Sam's tab has no media permission, so in this loopback-only namespace Chromium gathers no
    # ICE candidate for it and the pair can never connect directly (docs/protocol.md 2.6).
    dana = open_board("demo")
    sam = open_board("sam", grant_media=False)
    for page in (dana, sam):
        page.wait_for_function(
            "() => window.watercooler.stats().links.some(link => link.path === 'relayed')",
            timeout=25_000,
        )
    expect(dana.locator("#peer-links li[data-path=relayed]")).to_have_count(1)

    task = stack.task_named("Task search")
    pick_up(dana, task["id"])
    hover_column(dana, "done")
    expect(column(sam, "done").locator(f'.ghost[data-task-id="{task["id"]}"]')).to_be_visible()
    dana.mouse.up()
    wait_in_column(sam, task["id"], "done")
    wait_settled(dana, task["id"])

    (link,) = stats(dana)["links"]
    assert {"drag-start", "drag-drop", "task-updated"} <= set(link["counters"]["sentRelay"])
    assert link["counters"]["sentDirect"] == {}
    relay_bytes = re.search(
        r'^watercooler_relayed_bytes_total\{kind="relay"\} (\S+)$', stack.metrics(), re.M
    )
    assert relay_bytes is not None
    assert float(relay_bytes.group(1)) > 0


@pytest.mark.parametrize("slow_close", [False, True], ids=["prompt-close", "slow-close"])
def test_one_tab_signaling_blip_gets_a_direct_link_back(
    stack: Stack, open_board: OpenBoard, slow_close: bool
) -> None:
    """Dana's websocket drops and she rejoins with the same peer id; Sam closed his connection to
    her on peer-left and waits for her offer (she learned of him from her welcome). The pair gets
    a new direct channel and drags cross it again."""
    dana, sam = two_tabs(open_board)
    dana_peer = stats(dana)["peer"]
    for page in (dana, sam):
        page.evaluate(MARK_OLD_CHANNELS)
    if slow_close:
        sam.evaluate(HOLD_CLOSE_ON_PEER_LEFT)

    dana.evaluate("() => window.watercooler.signaling.ws.close()")
    dana.wait_for_function("() => window.watercooler.welcomes === 2", timeout=WAIT_MS)
    wait_live_status(dana, "live")
    assert stats(dana)["peer"] == dana_peer, "Dana resumed her peer id"
    if slow_close:
        sam.wait_for_function("() => window.heldLinks.length === 1", timeout=WAIT_MS)
        assert dana.evaluate(
            "() => [...window.watercooler.mesh.links.values()][0].openChannel.beforeBlip"
        ), "Dana still holds her old open channel after her welcome"
        sam.evaluate("() => window.heldLinks.forEach(link => link.close())")
    for page in (dana, sam):
        page.wait_for_function(NEW_CHANNEL_OPEN, timeout=WAIT_MS)

    task = stack.task_named("Sign-up page copy")
    pick_up(dana, task["id"])
    hover_column(dana, "testing")
    expect(column(sam, "testing").locator(f'.ghost[data-task-id="{task["id"]}"]')).to_be_visible()
    dana.mouse.up()
    wait_in_column(sam, task["id"], "testing")
    wait_settled(dana, task["id"])
    other = stack.task_named("CSV export")
    keyboard_move(sam, other["id"], ["ArrowLeft"])
    wait_in_column(dana, other["id"], "in_progress")
    for page in (dana, sam):
        (link,) = stats(page)["links"]
        assert link["path"] == "direct"
    # Sam's link to Dana is new since the blip: one channel, one hello each way.
    (sam_link,) = stats(sam)["links"]
    assert sam_link["counters"]["sentDirect"]["hello"] == 1, sam_link["counters"]
    assert sam_link["counters"]["receivedDirect"]["hello"] == 1, sam_link["counters"]
