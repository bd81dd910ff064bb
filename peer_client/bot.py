"""The headless bot: log in, join a sprint, print what happens, act, leave cleanly.

:func:`run_bot` is the whole life of one bot; :class:`EventPrinter` turns session events into
log lines (readable, or JSON lines with ``--json``). The command line lives in ``peer_client.cli``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from peer_client import loopback
from peer_client.actions import BotOptions, Drag, Move, Wait, WaitPeers, tasks_named
from peer_client.board_api import BoardClient
from peer_client.errors import ActionError
from peer_client.places import Place, place_of_task
from peer_client.printable import printable
from peer_client.session import (
    BoardSession,
    DragEvent,
    HelloEvent,
    LinkEvent,
    Person,
    RejectedEvent,
    TaskEvent,
)
from peer_client.state import Overlay


class EventPrinter:
    """Writes one line per event to ``out``: ``HH:MM:SS text`` or a JSON object per line."""

    def __init__(self, session: BoardSession, *, as_json: bool, out: TextIO = sys.stdout) -> None:
        self.session = session
        self.as_json = as_json
        self.out = out
        for name, handler in (
            ("joined", self._joined),
            ("peer-joined", self._peer_joined),
            ("peer-left", self._peer_left),
            ("link", self._link),
            ("hello", self._hello),
            ("drag", self._drag),
            ("task-updated", self._task_updated),
            ("task-deleted", self._task_deleted),
            ("overlay-expired", self._overlay_expired),
            ("signaling", self._signaling),
            ("rejected", self._rejected),
        ):
            session.on(name, handler)

    def line(self, event: str, text: str, **fields: Any) -> None:
        """Print one line: ``text`` for people, ``{"event": ..., **fields}`` for machines.

        ``text`` holds what peers and the board chose (names, agents, task names): it is printed
        with every control, bidi control and lone surrogate escaped, so it can neither drive the
        terminal nor forge a line. JSON escapes them itself (``ensure_ascii``).
        """
        now = datetime.now(UTC)
        if self.as_json:
            record = {"time": now.isoformat(timespec="milliseconds"), "event": event, **fields}
            print(json.dumps(record, separators=(",", ":")), file=self.out, flush=True)
        else:
            print(f"{now.astimezone():%H:%M:%S} {printable(text)}", file=self.out, flush=True)

    def task_label(self, task_id: int) -> str:
        name = self.session.board_state.name_of(task_id)
        return f'#{task_id} "{name}"' if name else f"#{task_id}"

    def _person(self, person: Person) -> dict[str, str]:
        return {"peer": person.peer, "user": person.user_id, "name": person.name}

    def _joined(self, me: Person) -> None:
        others = ", ".join(p.name for p in self.session.presence.values()) or "nobody else yet"
        title = f' "{self.session.sprint_name}"' if self.session.sprint_name else ""
        self.line(
            "joined",
            f"joined sprint {self.session.sprint}{title} as {me.name} (peer {me.peer}); "
            f"here: {others}",
            sprint=self.session.sprint,
            **self._person(me),
            here=[self._person(p) for p in self.session.presence.values()],
        )

    def _peer_joined(self, person: Person) -> None:
        count = len(self.session.presence) + 1
        self.line(
            "peer-joined",
            f"+ {person.name} is here ({count} viewing)",
            **self._person(person),
            colour=person.colour,
        )

    def _peer_left(self, person: Person) -> None:
        self.line("peer-left", f"- {person.name} left", **self._person(person))

    def _link(self, event: LinkEvent) -> None:
        if event.state == "connecting":
            return
        self.line(
            "link",
            f"  link to {event.person.name} ({event.person.peer[:6]}): {event.state}",
            **self._person(event.person),
            state=event.state,
        )

    def _hello(self, event: HelloEvent) -> None:
        self.line(
            "hello",
            f"  {event.person.name} is on a {event.agent} client",
            **self._person(event.person),
            agent=event.agent,
        )

    def _drag(self, event: DragEvent) -> None:
        who, what = event.person.name, self.task_label(event.task)
        texts = {
            "start": f"{who} picks up {what} from {event.place}",
            "hover": f"{who} drags {what} over {event.place}",
            "drop": f"{who} drops {what} on {event.place}",
            "cancel": f"{who} puts {what} back",
            "snapshot": f"{who} is dragging {what} over {event.place}",
        }
        self.line(
            "drag",
            texts[event.kind],
            kind=event.kind,
            **self._person(event.person),
            task=event.task,
            place=event.place.to_json() if event.place else None,
            **{"from": event.from_.to_json() if event.from_ else None},
        )

    def _task_updated(self, event: TaskEvent) -> None:
        if event.source == "self" and not self.as_json:
            return  # our own save: the action's "moved" line already says so
        task, sprint = event.task, self.session.sprint
        place = place_of_task(task, sprint)
        before = place_of_task(event.previous, sprint) if event.previous else None
        where = str(place) if place else "another sprint"
        if event.previous and before != place:
            change = f"moved {before or 'elsewhere'} -> {where}"
        elif event.previous:
            change = f"updated ({where})"
        else:
            change = f"appeared in {where}"
        by = {"board": "the board", "self": "us"}[event.source]
        self.line(
            "task-updated",
            f"task {self.task_label(task['id'])} {change} (v{task['version']}, via {by})",
            task=task,
            source=event.source,
        )

    def _task_deleted(self, event: TaskEvent) -> None:
        label = f'#{event.task["id"]} "{event.task.get("name", "")}"'
        self.line("task-deleted", f"task {label} deleted", task=event.task)

    def _overlay_expired(self, overlay: Overlay) -> None:
        self.line(
            "drop-expired",
            f"drop of {self.task_label(overlay.task)} on {overlay.place} was never confirmed",
            task=overlay.task,
        )

    def _signaling(self, state: str) -> None:
        self.line("signaling", f"  signaling: {state}", state=state)

    def _rejected(self, event: RejectedEvent) -> None:
        self.line(
            "rejected",
            f"  dropped a bad message from {event.person.name}: {event.reason}",
            **self._person(event.person),
            reason=event.reason,
        )


async def open_session(options: BotOptions) -> tuple[BoardClient, BoardSession]:
    """Log in and load the sprint; raises a PeerClientError with a sentence for the user."""
    board = BoardClient(options.board, options.token)
    try:
        if options.user is not None:
            await board.login(options.user, options.password or "")
        session = await BoardSession.from_board(board, options.sprint)
        for task_id in tasks_named(options.actions):
            if session.board_state.place_of(task_id) is None:
                raise ActionError(
                    f"unknown task {task_id}: not on sprint {options.sprint} or in the backlog"
                )
    except BaseException:
        await board.close()
        raise
    return board, session


async def run_bot(options: BotOptions, out: TextIO = sys.stdout) -> int:
    """Join, act, watch; returns the exit code (0, or 1 if an action failed with ``--once``).

    Raises :class:`~peer_client.errors.PeerClientError` for what must end the bot with exit 2.
    """
    if options.loopback_only:
        loopback.apply()
    board, session = await open_session(options)
    printer = EventPrinter(session, as_json=options.json, out=out)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    failures = 0
    try:
        await session.join()
        actor = asyncio.create_task(run_actions(session, options, printer))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({actor, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if actor.done():
            failures = actor.result()
            if not options.once:
                await stopper
        else:
            actor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await actor
        stopper.cancel()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await session.close()
        await board.close()
        printer.line("left", f"left sprint {options.sprint}", sprint=options.sprint)
    return 1 if failures and options.once else 0


async def run_actions(session: BoardSession, options: BotOptions, printer: EventPrinter) -> int:
    """Do the actions in order; returns how many moves the board refused."""
    failures = 0
    for action in options.actions:
        if isinstance(action, Wait):
            await asyncio.sleep(action.seconds)
        elif isinstance(action, WaitPeers):
            await wait_for_peers(session, action.count, options.wait_timeout, printer)
        elif isinstance(action, Drag):
            await drag_around(session, action.task, action.over, options.step, printer)
        elif isinstance(action, Move):
            failures += not await move(session, action, options.step, printer)
    return failures


async def wait_for_peers(
    session: BoardSession, count: int, timeout: float, printer: EventPrinter
) -> None:
    deadline = time.monotonic() + timeout
    while len(session.open_peers()) < count:
        if time.monotonic() > deadline:
            printer.line(
                "warning",
                f"only {len(session.open_peers())} of {count} peers linked after {timeout:g} s; "
                "going on",
                linked=len(session.open_peers()),
                wanted=count,
            )
            return
        await asyncio.sleep(0.05)


async def drag_around(
    session: BoardSession, task: int, over: Sequence[Place], step: float, printer: EventPrinter
) -> None:
    origin = session.drag_start(task)
    printer.line("action", f"picking up {printer.task_label(task)} from {origin}", task=task)
    try:
        for place in over:
            await asyncio.sleep(step)
            await session.drag_hover(task, place)
            printer.line(
                "action",
                f"dragging {printer.task_label(task)} over {place}",
                task=task,
                over=place.to_json(),
            )
        await asyncio.sleep(step)
    finally:
        session.drag_cancel(task)
    printer.line("action", f"put {printer.task_label(task)} back", task=task)


async def move(session: BoardSession, action: Move, step: float, printer: EventPrinter) -> bool:
    label = printer.task_label(action.task)
    printer.line(
        "action", f"moving {label} to {action.to}", task=action.task, to=action.to.to_json()
    )
    result = await session.move(action.task, action.to, over=action.via, step=step)
    if result.outcome == "moved":
        assert result.task is not None
        printer.line(
            "moved",
            f"moved {label} to {action.to} (v{result.task['version']})",
            task=result.task,
        )
        return True
    printer.line(
        "move-refused",
        f"the board refused to move {label}: {result.detail}",
        task=result.task,
        outcome=result.outcome,
        detail=result.detail,
    )
    return False
