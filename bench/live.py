"""The live feel of the real app: Chromium tabs on the board page, the board, signaling and the bot.

``python -m bench live`` (inside tools/in_netns.sh) measures, with real pointer events:

- a drag start and a drop, from the pointer event in one tab (its timestamp) to the DOM change in
  another (a MutationObserver), between two tabs with a direct link;
- how many pointer updates a second the other tab's ghost follows during a continuous drag;
- how long a tenth tab takes to link directly with nine, and the bot with five tabs;
- how soon a tab whose direct link is blocked (no media permission: no ICE candidate in the
  namespace) sees a drag in progress, and a drag start over the relay;
- how many messages the signaling server received while the linked tabs dragged.

Times in two tabs are on the clock they share (``performance.timeOrigin + now``), less the offset
between them measured before. Results are JSON for bench/report.py; it asserts nothing.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from playwright.sync_api import Browser, Page, sync_playwright

from bench.live_stack import LiveApp, go_to_board, open_tab, wait_direct
from bench.servers import require_loopback_only, revision
from bench.stats import latency_summary, median
from tests.support.board import PASSWORD
from tests.support.processes import ROOT
from tools.chromium import CHROMIUM, CHROMIUM_ARGS

USERS: Final = ("demo", "sam")
COLUMNS: Final = ("testing", "in_progress")


@dataclass(frozen=True)
class LivePlan:
    drags: int = 40
    pointer_seconds: float = 3.0
    mesh_rounds: int = 5
    mesh_tabs: int = 9
    bot_rounds: int = 3
    bot_tabs: int = 5
    blocked_rounds: int = 5
    relayed_drags: int = 10

    @classmethod
    def quick(cls) -> LivePlan:
        return cls(4, 1.0, mesh_rounds=1, mesh_tabs=3, bot_rounds=1, bot_tabs=2, blocked_rounds=1,
                   relayed_drags=2)  # fmt: skip


FLOAT: Final = '#board .remote-float[data-task-id="{task}"]'
REMOTE_DRAG: Final = (
    "id => document.querySelector(`#board .task.remote-drag[data-task-id='${id}']`)"
)
LANDED: Final = """([id, column]) => {
    const card = document.querySelector(
        `#board .column[data-column='${column}'] .tasks > .task[data-task-id='${id}']`);
    return card !== null && !card.classList.contains('remote-drag');
}"""
SETTLED: Final = "id => !window.watercooler.state.overlays.has(id)"
LINKED_AT: Final = """() => {
    const links = window.watercooler.stats().links;
    return {
        openedAt: Math.max(...links.map(l => l.openedAt)),
        origin: performance.timeOrigin,
        liveAt: __bench.liveAt,
    };
}"""


def clock_offset_ms(a: Page, b: Page, samples: int = 25) -> float:
    """``b``'s clock minus ``a``'s (ms): ``b`` asked between two asks of ``a``, tightest pair."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = float(a.evaluate("__benchNow()"))
        other = float(b.evaluate("__benchNow()"))
        after = float(a.evaluate("__benchNow()"))
        if best is None or after - before < best[0]:
            best = (after - before, other - (before + after) / 2)
    assert best is not None
    return best[1]


def column_point(page: Page, column: str, x: float = 0.5, y: float = 0.9) -> tuple[float, float]:
    box = page.locator(f'#board .column[data-column="{column}"]').bounding_box()
    assert box is not None
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def pick_up(page: Page, task: int) -> None:
    page.evaluate("() => { __bench.startAt = null; __bench.startHandledAt = null; }")
    box = page.locator(f'#board .task[data-task-id="{task}"]').bounding_box()
    assert box is not None, f"task {task} is not shown"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 12, y + 8, steps=3)


def drop_in(page: Page, task: int, column: str) -> None:
    """Drop the held card at the bottom of ``column`` and wait until the board saved it."""
    page.mouse.move(*column_point(page, column), steps=5)
    page.mouse.up()
    page.wait_for_function(SETTLED, arg=task)


def watch(page: Page, name: str, condition: str, arg: Any) -> None:
    """Start waiting in ``page`` for ``condition(arg)`` (a JS function); :func:`seen` reads it."""
    page.evaluate(
        f"([name, arg]) => {{ window['__w_' + name] = __benchWhen(() => ({condition})(arg)); }}",
        [name, arg],
    )


def seen(page: Page, name: str) -> float:
    return float(page.evaluate("name => window['__w_' + name]", name))


def timed_start(a: Page, b: Page, task: int, offset: float) -> tuple[float, float]:
    """``a`` picks ``task`` up: ms until ``b`` shows it dragged, from the pointer event and from
    the page's handling of it (``offset``: ``b``'s clock minus ``a``'s)."""
    watch(b, "start", REMOTE_DRAG, task)
    pick_up(a, task)
    shown = seen(b, "start") - offset
    return (
        shown - float(a.evaluate("__bench.startAt")),
        shown - float(a.evaluate("__bench.startHandledAt")),
    )


def wait_links(tabs: list[Page], count: int) -> None:
    """Until each of ``tabs`` has exactly ``count`` links (someone left: its link is gone)."""
    for tab in tabs:
        tab.wait_for_function("n => window.watercooler.stats().links.length === n", arg=count)


def summarise(results: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Rounds of times (``*_ms`` keys) as their count and each time's median, min and max."""
    keys = [key for key in results[0] if key.endswith("_ms")]
    values = {key: [r[key] for r in results] for key in keys}
    spread = {
        k: {"median": round(median(v), 1), "min": min(v), "max": max(v)} for k, v in values.items()
    }
    return {**extra, "rounds": len(results), **spread}


def drags_between(app: LiveApp, a: Page, b: Page, task: int, count: int) -> dict[str, Any]:
    """``count`` moves of ``task`` by ``a``'s pointer, timed to ``b``'s DOM; signaling's count."""
    offset = clock_offset_ms(a, b)
    before = app.metrics()
    starts: list[tuple[float, float]] = []
    drops: list[float] = []
    for n in range(count):
        target = COLUMNS[n % len(COLUMNS)]
        starts.append(timed_start(a, b, task, offset))
        a.mouse.move(*column_point(a, target), steps=8)
        watch(b, "drop", LANDED, [task, target])
        a.mouse.up()
        drops.append(seen(b, "drop") - offset - float(a.evaluate("__bench.lastUp")))
        for page in (a, b):
            page.wait_for_function(SETTLED, arg=task)
    after = app.metrics()
    received = {
        kind: n - before.get(kind, 0) for kind, n in after.items() if n > before.get(kind, 0)
    }
    return {
        "drags": count,
        "clock_offset_ms": round(offset, 3),
        **starts_summary(starts, "start", "start_from_handling"),
        "drop": latency_summary(drops),
        "server_messages": {"total": sum(received.values()), "by_type": received},
    }


def pointer_updates(a: Page, b: Page, task: int, seconds: float) -> dict[str, Any]:
    """A continuous drag by ``a`` for ``seconds``: updates ``b``'s ghost followed, per second."""
    pick_up(a, task)
    x0, y0 = column_point(a, "testing", 0.5, 0.5)
    a.mouse.move(x0, y0, steps=5)
    b.wait_for_selector(FLOAT.format(task=task))
    updates = (
        f"() => Number(document.querySelector('{FLOAT.format(task=task)}')?.dataset.updates ?? 0)"
    )
    sent = "() => window.watercooler.stats().links[0].counters.sentDirect['drag-hover'] ?? 0"
    # One window, on the sender's clock: what was sent in it, and what the ghost followed of it
    # (read just after each end, and once the last ones in flight arrived).
    first_a, first_sent = float(a.evaluate("__benchNow()")), int(a.evaluate(sent))
    first_updates = int(b.evaluate(updates))
    moves = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        # A circle inside the column: the place changes now and then, the pointer always.
        phase = moves / 25
        a.mouse.move(x0 + 60 * math.cos(phase), y0 + 80 * math.sin(phase))
        moves += 1
    last_a, last_sent = float(a.evaluate("__benchNow()")), int(a.evaluate(sent))
    b.wait_for_timeout(100)
    last_updates = int(b.evaluate(updates))
    drop_in(a, task, "in_progress")
    window = (last_a - first_a) / 1000
    return {
        "seconds": round(window, 3),
        "pointer_events_per_s": round(moves / window, 1),
        "sent_per_s": round((last_sent - first_sent) / window, 1),
        "seen_per_s": round((last_updates - first_updates) / window, 1),
    }


def tenth_tab(browser: Browser, app: LiveApp, tabs: list[Page], rounds: int) -> dict[str, Any]:
    """A tab opening the board next to ``tabs`` (all linked): time to a direct link with each."""
    results = []
    for n in range(rounds):
        page = open_tab(browser, app, USERS[n % 2], go=False)
        go_to_board(page, app)
        wait_direct(page, len(tabs))
        at = page.evaluate(LINKED_AT)
        live = at["origin"] + at["openedAt"] - at["liveAt"]
        results.append(
            {"from_navigation_ms": round(at["openedAt"], 1), "from_live_ms": round(live, 1)}
        )
        page.context.close()
        wait_links(tabs, len(tabs) - 1)
    return summarise(results, tabs=len(tabs))


def bot_with_tabs(app: LiveApp, tabs: list[Page], rounds: int) -> dict[str, Any]:
    """``python -m peer_client`` joining ``tabs``: from its start to a direct link with each."""
    results = []
    for _ in range(rounds):
        started = time.time()
        command = [sys.executable, "-m", "peer_client", "--board", app.base, "--sprint",
                   str(app.sprint), "--user", "sam", "--password", PASSWORD, "--loopback-only",
                   "--json"]  # fmt: skip
        bot = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        joined: float | None = None
        linked: set[str] = set()
        last = started
        assert bot.stdout is not None
        for line in bot.stdout:
            event = json.loads(line)
            at = datetime.fromisoformat(event["time"]).timestamp()
            if event["event"] == "joined":
                joined = at
            elif event["event"] == "link" and event["state"] == "direct":
                linked.add(event["peer"])
                last = at
            if len(linked) == len(tabs):
                break
        assert joined is not None, "the bot never joined"
        since = {"from_start_ms": started, "from_joined_ms": joined}
        results.append({key: round((last - at) * 1000, 1) for key, at in since.items()})
        bot.send_signal(signal.SIGINT)
        bot.wait(30)
        wait_links(tabs, len(tabs) - 1)
    return summarise(results, tabs=len(tabs))


def blocked_newcomer(
    browser: Browser, app: LiveApp, a: Page, task: int, rounds: int, drags: int
) -> dict[str, Any]:
    """A tab whose direct link is blocked opens the board while ``a`` holds ``task``."""
    results = []
    starts: list[tuple[float, float]] = []
    for n in range(rounds):
        pick_up(a, task)
        a.mouse.move(*column_point(a, "testing"), steps=5)
        page = open_tab(browser, app, "sam", grant_media=False, go=False)
        go_to_board(page, app)
        page.wait_for_function("() => __bench.firstGhostAt !== null")
        path = page.evaluate("() => window.watercooler.stats().links[0]?.path ?? null")
        at = page.evaluate("() => ({origin: performance.timeOrigin, ...__bench})")
        since = {"from_navigation_ms": at["origin"], "from_live_ms": at["liveAt"]}
        seen = {key: round(at["firstGhostAt"] - then, 1) for key, then in since.items()}
        results.append({**seen, "path_when_seen": path})
        drop_in(a, task, COLUMNS[n % len(COLUMNS)])
        if n == rounds - 1:  # drag starts over the relay, for the last newcomer
            offset = clock_offset_ms(a, page)
            for m in range(drags):
                starts.append(timed_start(a, page, task, offset))
                drop_in(a, task, COLUMNS[m % len(COLUMNS)])
                page.wait_for_function(f"id => !({REMOTE_DRAG})(id)", arg=task)
        page.context.close()
    paths = sorted({r["path_when_seen"] for r in results})
    relayed = starts_summary(starts, "relayed_start", "relayed_start_from_handling")
    return summarise(results, paths_when_seen=paths, **relayed)


def starts_summary(starts: list[tuple[float, float]], event: str, handled: str) -> dict[str, Any]:
    """Drag starts timed from the pointer event and from its handling, as two latency summaries."""
    return {
        name: latency_summary([s[i] for s in starts]) for i, name in enumerate((event, handled))
    }


def run_live(path: Path, plan: LivePlan) -> dict[str, Any]:
    """Run every workload and write the results to ``path`` (JSON); returns them."""
    require_loopback_only("bench live")
    app = LiveApp()
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                results = _measure(browser, app, plan)
            finally:
                browser.close()
    finally:
        app.stop()
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["revision"] = revision()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return results


def _measure(browser: Browser, app: LiveApp, plan: LivePlan) -> dict[str, Any]:
    tasks = app.api(f"/api/tasks/?sprint={app.sprint}&page_size=500")["results"]
    task = next(t["id"] for t in tasks if t["status"] == "not_started")
    a = open_tab(browser, app, "demo")
    b = open_tab(browser, app, "sam", viewport=(1200, 850))
    for page in (a, b):
        wait_direct(page, 1)
    results: dict[str, Any] = {"plan": asdict(plan)}
    results["drags"] = drags_between(app, a, b, task, plan.drags)
    results["pointer"] = pointer_updates(a, b, task, plan.pointer_seconds)
    b.context.close()
    results["blocked"] = blocked_newcomer(
        browser, app, a, task, plan.blocked_rounds, plan.relayed_drags
    )
    tabs = [a] + [open_tab(browser, app, USERS[n % 2]) for n in range(1, plan.mesh_tabs)]
    for tab in tabs:
        wait_direct(tab, len(tabs) - 1)
    results["tenth_tab"] = tenth_tab(browser, app, tabs, plan.mesh_rounds)
    for tab in tabs[plan.bot_tabs :]:
        tab.context.close()
    tabs = tabs[: plan.bot_tabs]
    wait_links(tabs, len(tabs) - 1)
    results["bot"] = bot_with_tabs(app, tabs, plan.bot_rounds)
    return results
