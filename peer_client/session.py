"""A live sprint board for one client: presence, drags, moves — with a browser-like event API.

:class:`BoardSession` wires the pieces together: the signaling client (who is here, negotiation,
relays, board events), the peer mesh (data channels) and the board state (tasks, drags, pending
drops). It speaks section 2 of docs/protocol.md: ``hello`` and ``snapshot`` when a channel opens,
drag messages while the user (or the bot) drags, ``task-updated`` after the board answered a move,
``bye`` on :meth:`BoardSession.close`. It reports each pair's link outcome to signaling when it
changes (docs/protocol.md 1.8; :mod:`peer_client.link_reporter`).

Peers are untrusted (docs/protocol.md 2.4): task states come from the board alone (REST answers,
board events), checked by :mod:`peer_client.fields`; what a peer's message may change is
:mod:`peer_client.peer_input`'s rule, and a peer's ``task-updated`` only makes the session ask the
board for that task (rate-limited by :mod:`peer_client.refresh`).

Events, subscribed with :meth:`BoardSession.on` (handlers may be plain functions or coroutines):

=================  ===========================================================================
``joined``         :class:`Person` — we are in the sprint (our own person)
``presence``       ``tuple[Person, ...]`` — everyone else viewing the sprint, after each change
``peer-joined``    :class:`Person` — someone arrived
``peer-left``      :class:`Person` — someone left (signaling's ``peer-left``)
``link``           :class:`LinkEvent` — our link to a person: connecting, direct, relayed, closed
``hello``          :class:`HelloEvent` — a person's client introduced itself on its channel
``drag``           :class:`DragEvent` — someone picked up, hovered, dropped or put back a card
``task-updated``   :class:`TaskEvent` — a newer board state of a task was kept
``task-deleted``   :class:`TaskEvent` — the board deleted a task
``overlay-expired`` :class:`~peer_client.state.Overlay` — a drop was not settled within 10 s
``signaling``      ``str`` — the signaling connection's new state (joined, reconnecting, ...)
``rejected``       :class:`RejectedEvent` — a malformed message from a peer was dropped
=================  ===========================================================================
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal

import jwt

from peer_client import message_ids, messages, peer_input, protocol
from peer_client.board_api import BoardClient, MoveResult, ticket_from
from peer_client.board_source import BoardSource, checked_tasks
from peer_client.errors import ActionError
from peer_client.events import (
    DragEvent,
    HelloEvent,
    LinkEvent,
    Person,
    RejectedEvent,
    TaskEvent,
)
from peer_client.ice import ice_servers_from
from peer_client.link_reporter import LinkReporter
from peer_client.mesh import PeerMesh
from peer_client.messages import DragInfo
from peer_client.places import Place
from peer_client.protocol import HOVER_INTERVAL, LINK_TIMEOUT
from peer_client.signaling import SignalingClient, Ticket, TicketSource
from peer_client.state import BoardState

__all__ = [
    "BoardSession",
    "DragEvent",
    "HelloEvent",
    "LinkEvent",
    "Person",
    "RejectedEvent",
    "TaskEvent",
]

log = logging.getLogger("peer_client.session")

Handler = Callable[[Any], object]
SessionState = Literal["new", "joining", "live", "closing", "closed"]


def identity_from_ticket(ticket: str) -> tuple[str, str]:
    """``(user id, display name)`` from a ticket's claims (read only; signaling verifies it)."""
    try:
        claims = jwt.decode(ticket, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return "", ""
    return str(claims.get("sub", "")), str(claims.get("name", ""))


class BoardSession:
    """One client's live view of one sprint. ``state``: new, joining, live, closing, closed."""

    def __init__(
        self,
        sprint: int,
        ticket: Ticket,
        *,
        ticket_source: TicketSource | None = None,
        board: BoardClient | None = None,
        tasks: Iterable[dict[str, Any]] = (),
        sprint_name: str = "",
        agent: str = "bot",
        link_timeout: float = LINK_TIMEOUT,
        backoff_base: float = 0.25,
        backoff_cap: float = 10.0,
    ) -> None:
        self.sprint = sprint
        self.sprint_name = sprint_name
        self.board = board
        self.agent = agent
        self.board_state = BoardState(sprint, checked_tasks(tasks))
        self.source = BoardSource(self.board_state, board, sprint, self._emit, self._spawn)
        """Task states from the board: checked, kept, and fetched on a peer's hint."""
        self._handlers: dict[str, list[Handler]] = {}
        self._state: SessionState = "new"
        self._ids = message_ids.MessageIds()
        self._seen = message_ids.SenderSeenIds()
        self._order = message_ids.SenderOrder()
        self._people: dict[str, Person] = {}
        self._signaling_peers: set[str] = set()
        self._presence: tuple[str, ...] = ()
        self._agents: dict[str, str] = {}
        self._own_drag: DragInfo | None = None
        """The card we hold (one at a time, as a person does), and the version it had when we
        picked it up: the move is saved against that version (docs/protocol.md 2.4)."""
        self._own_version = 0
        self._last_hover = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._expiry: asyncio.Task[None] | None = None
        user_id, name = identity_from_ticket(ticket.ticket)
        self.user_id, self.name = user_id, name
        self.me: Person | None = None

        async def stale_ticket() -> Ticket:
            return ticket

        self.signaling = SignalingClient(
            ticket,
            ticket_source or stale_ticket,
            self._on_signaling,
            on_state=self._on_signaling_state,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
        )
        self.reporter = LinkReporter(
            self.signaling.send, live=lambda: self.signaling.state == "joined"
        )
        self.mesh = PeerMesh(
            send_signal=lambda peer, data: self.signaling.send(
                {"type": "signal", "to": peer, "data": data}
            ),
            send_relay=lambda peer, data: self.signaling.send(
                {"type": "relay", "to": peer, "data": data}
            ),
            on_message=self._on_channel_message,
            on_state=self._on_link_state,
            on_outcome=self.reporter.note,
            link_timeout=link_timeout,
            can_offer=lambda: self.signaling.state == "joined",
        )

    @classmethod
    async def from_board(cls, board: BoardClient, sprint_id: int, **options: Any) -> BoardSession:
        """Load a sprint from the board (detail with ticket, tasks) into a session, not yet joined.

        Raises :class:`~peer_client.errors.BoardError` (unknown sprint, bad token, unreachable).
        """
        sprint = await board.sprint(sprint_id)
        signaling = sprint.get("links", {}).get("signaling")
        ticket = ticket_from(signaling) if isinstance(signaling, dict) else None
        if ticket is None:
            ticket = await board.ticket(sprint_id)
        tasks = await board.tasks(sprint_id)
        return cls(
            sprint_id,
            ticket,
            ticket_source=lambda: board.ticket(sprint_id),
            board=board,
            tasks=tasks,
            sprint_name=str(sprint.get("name", "")),
            **options,
        )

    # --- events ------------------------------------------------------------------------------

    def on(self, event: str, handler: Handler) -> Handler:
        """Call ``handler(payload)`` on ``event`` (see the module docstring); returns it."""
        self._handlers.setdefault(event, []).append(handler)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._handlers[event].remove(handler)

    def _emit(self, event: str, payload: Any) -> None:
        for handler in list(self._handlers.get(event, ())):
            try:
                result = handler(payload)
            except Exception:
                log.exception("%s handler failed", event)
                continue
            if inspect.isawaitable(result):
                self._spawn(result)

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("event handler failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- who is here -------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def peer(self) -> str:
        """Our peer id (assigned by signaling); RuntimeError before :meth:`join`."""
        if self.me is None:
            raise RuntimeError("not joined yet: no peer id")
        return self.me.peer

    @property
    def presence(self) -> dict[str, Person]:
        """Everyone else viewing the sprint, by peer id."""
        return {peer: self._people[peer] for peer in self._presence}

    def person(self, peer: str) -> Person:
        return self._people.get(peer) or Person(peer, "", peer[:8])

    def link_state(self, peer: str) -> str | None:
        """``connecting``, ``direct``, ``relayed`` or None (no link to that peer)."""
        state = self.mesh.state_of(peer)
        return {"open": "direct"}.get(state, state) if state is not None else None

    def open_peers(self) -> list[str]:
        """Peers we can exchange messages with (direct or relayed)."""
        return [p for p in self._presence if self.mesh.state_of(p) in ("open", "relayed")]

    def _update_presence(self) -> None:
        present = self._signaling_peers | {
            peer for peer, link in self.mesh.links.items() if link.state == "open"
        }
        present.discard(self.me.peer if self.me else "")
        ordered = tuple(sorted(present, key=lambda p: (self.person(p).name, p)))
        if ordered != self._presence:
            before = set(self._presence)
            self._presence = ordered
            for peer in ordered:
                if peer not in before:
                    self._emit("peer-joined", self.person(peer))
            for peer in before - set(ordered):
                self._agents.pop(peer, None)
                for drag in self.board_state.forget_peer(peer):
                    self._emit_drag("cancel", peer, drag.task, None)
                self._emit("peer-left", self.person(peer))
            self._emit("presence", tuple(self.person(p) for p in ordered))

    # --- joining and signaling ---------------------------------------------------------------

    async def join(self) -> Person:
        """Join the sprint through signaling; returns our own person (peer id from the server).

        Raises :class:`~peer_client.errors.SignalingError` if signaling cannot be reached or
        refuses the ticket.
        """
        if self._state != "new":
            raise RuntimeError("join() may be called once")
        self._state = "joining"
        try:
            await self.signaling.connect()
        except BaseException:
            self._state = "closed"
            await self.mesh.close()
            raise
        self._state = "live"
        self._expiry = asyncio.create_task(self._expire_overlays(), name="overlay-expiry")
        assert self.me is not None
        self._emit("joined", self.me)
        return self.me

    def _on_signaling_state(self, old: str, new: str) -> None:
        if self._state in ("live", "joining"):
            self._emit("signaling", new)

    async def _on_signaling(self, message: dict[str, Any], frame: str) -> None:
        kind = message.get("type")
        if kind == "welcome":
            await self._on_welcome(message)
        elif kind == "peer-joined":
            peer, user = message.get("peer"), message.get("user")
            if isinstance(peer, str):
                self._remember(peer, user)
                self._signaling_peers.add(peer)
                self.mesh.joined(peer)  # it offers; we answer
                self._update_presence()
        elif kind == "peer-left":
            peer = message.get("peer")
            if isinstance(peer, str):
                await self._departed(peer)
        elif kind == "signal":
            peer, data = message.get("from"), message.get("data")
            if isinstance(peer, str) and isinstance(data, dict):
                self.mesh.signal(peer, data)
        elif kind == "relay":
            # Only from a peer signaling introduced; judged on the frame that carried it, as the
            # page judges it (docs/protocol.md 2.6).
            peer = message.get("from")
            if isinstance(peer, str) and self._introduced(peer):
                parsed = protocol.parse_relayed(frame)
                if isinstance(parsed, protocol.Received) and (
                    parsed.message.type in protocol.CHANNEL_ONLY_TYPES
                ):
                    return  # ping and pong go over the channel only: one relayed is ignored
                self._on_peer_message(peer, parsed)
            elif isinstance(peer, str):
                log.info("relay from %s, whom signaling never introduced; ignored", peer)
        elif kind == "event":
            event = message.get("event")
            if isinstance(event, dict):
                self.source.on_event(event)
        elif kind == "error":
            log.warning("signaling error %s: %s", message.get("code"), message.get("message"))

    async def _on_welcome(self, welcome: dict[str, Any]) -> None:
        peer = str(welcome.get("peer", ""))
        if self.me is not None and self.me.peer != peer:
            # Our resume was refused: we are a new peer now, and nobody knows our old links.
            log.info("rejoined as a new peer %s (was %s)", peer, self.me.peer)
            await self.mesh.close()
            self.reporter.clear()
        self.me = Person(peer, self.user_id, self.name)
        self.mesh.ice_servers = ice_servers_from(welcome.get("iceServers"))
        listed: set[str] = set()
        for entry in welcome.get("peers", []):
            if isinstance(entry, dict) and isinstance(entry.get("peer"), str):
                self._remember(entry["peer"], entry.get("user"))
                listed.add(entry["peer"])
        # We offer to the listed peers (docs/protocol.md 1.4). A peer missing from the list may
        # simply not have rejoined yet: its open channel is kept.
        self._signaling_peers = listed
        self.mesh.welcome(listed)
        self.reporter.flush()  # what changed while signaling was away
        self._update_presence()

    def _introduced(self, peer: str) -> bool:
        """Did signaling introduce ``peer`` (listed now, or a link kept since)?"""
        return peer in self._signaling_peers or self.mesh.state_of(peer) is not None

    def _remember(self, peer: str, user: object) -> None:
        if isinstance(user, dict):
            self._people[peer] = Person(peer, str(user.get("id", "")), str(user.get("name", "")))

    async def _departed(self, peer: str) -> None:
        self._signaling_peers.discard(peer)
        self._seen.forget(peer)
        self._order.forget(peer)
        await self.mesh.drop(peer)
        self.reporter.forget(peer)
        self._update_presence()

    # --- the data channels -------------------------------------------------------------------

    def _on_link_state(self, peer: str, old: str, new: str) -> None:
        if new == "open" or new == "relayed":
            self._send_to(peer, messages.Hello(self.agent))
            self._send_to(peer, messages.Snapshot(self._own_drags()))
        elif old == "new" and self._own_drag is not None:
            # Just introduced: the relay reaches it until a channel opens, and a newcomer should
            # see a drag in progress at once (docs/protocol.md 2.6).
            self._send_to(peer, messages.Snapshot(self._own_drags()))
        public = {"open": "direct"}.get(new, new)
        self._emit("link", LinkEvent(self.person(peer), public))  # type: ignore[arg-type]
        if new == "closed":
            self._update_presence()

    def _on_channel_message(self, peer: str, raw: str | bytes) -> None:
        self._on_peer_message(peer, protocol.parse_message(raw))

    def _on_peer_message(
        self, peer: str, parsed: protocol.Received | protocol.MessageRejected | None
    ) -> None:
        if parsed is None:
            return
        person = self.person(peer)
        if isinstance(parsed, protocol.MessageRejected):
            log.warning("dropped a message from %s: %s", person.name, parsed.reason)
            self._emit("rejected", RejectedEvent(person, parsed.reason))
            return
        if not self._seen.first_time(peer, parsed.id):
            return
        message = parsed.message
        if isinstance(message, messages.Bye):
            self.reporter.said_bye(peer)  # its channel closing next is no outcome
        # Around the switch from the relay to the channel a later drag message can overtake an
        # earlier one: the later one says where the drag is now (docs/protocol.md 2.2).
        if message.type in protocol.DRAG_STATE_TYPES and self._order.stale(peer, parsed.id):
            log.debug("stale %s from %s ignored (overtaken by a later one)", message.type, peer)
            return
        effect = peer_input.apply(self.board_state, peer, message, time.monotonic())
        if effect.agent is not None:
            self._agents[peer] = effect.agent
            self._emit("hello", HelloEvent(person, effect.agent))
        for change in effect.drags:
            self._emit_drag(change.kind, peer, change.task, change.place, change.from_)
        for drag in effect.left_drags:
            self._emit_drag("cancel", peer, drag.task, None, drag.from_)
        if effect.hint is not None:
            self.source.hint(effect.hint, peer)
        if effect.pong is not None:
            self._send_to(peer, messages.Pong(effect.pong))

    def _emit_drag(
        self,
        kind: Literal["start", "hover", "drop", "cancel", "snapshot"],
        peer: str,
        task: int,
        place: Place | None,
        from_: Place | None = None,
    ) -> None:
        name = self.board_state.name_of(task)
        self._emit("drag", DragEvent(kind, self.person(peer), task, name, place, from_))

    async def _expire_overlays(self) -> None:
        """Every half second: overlays past their deadline go, peers' drags silent for 30 s go
        (their end was lost), and a card we hold still says where it is again every 10 s so that
        ours never looks silent (docs/protocol.md 2.3)."""
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for overlay in self.board_state.expire_overlays(now):
                self._emit("overlay-expired", overlay)
            for drag in self.board_state.expire_drags(now):
                self._emit_drag("cancel", drag.peer, drag.task, None, drag.from_)
            held = self._own_drag
            if held is not None and now - self._last_hover >= protocol.DRAG_KEEPALIVE_SECONDS:
                self._last_hover = now
                self.broadcast(messages.DragHover(held.task, held.over))

    # --- sending -----------------------------------------------------------------------------

    def _envelope(self, message: messages.Message) -> dict[str, Any] | None:
        """The message with its id, checked by the protocol's rules (a ValueError is our bug);
        None if it is too large to send (the board's event carries the same state)."""
        obj = protocol.encode(message, self._ids.next())
        if protocol.frame_size(obj) > protocol.MAX_MESSAGE_BYTES:
            log.warning(
                "%s not sent: larger than %d bytes", message.type, protocol.MAX_MESSAGE_BYTES
            )
            return None
        return obj

    def _send_to(self, peer: str, message: messages.Message) -> bool:
        obj = self._envelope(message)
        return obj is not None and self.mesh.send(peer, obj)

    def broadcast(self, message: messages.Message) -> list[str]:
        """Send one message (one id) to every peer we can reach; returns their peer ids."""
        obj = self._envelope(message)
        return self.mesh.broadcast(obj) if obj is not None else []

    # --- acting ------------------------------------------------------------------------------

    def _task(self, task_id: int) -> dict[str, Any]:
        task = self.board_state.tasks.get(task_id)
        if task is None or self.board_state.place_of(task_id) is None:
            raise ActionError(f"task {task_id} is not on sprint {self.sprint} or the backlog")
        return task

    def check_place(self, place: Place) -> None:
        """Raise :class:`ActionError` if ``place`` is beyond the end of its column."""
        size = len(self.board_state.column(place.column))
        if place.index > size:
            raise ActionError(f"{place} is past the end of {place.column} ({size} tasks)")

    def _own_drags(self) -> tuple[DragInfo, ...]:
        """Our drag in progress, as a snapshot lists it (none or one)."""
        return () if self._own_drag is None else (self._own_drag,)

    def drag_start(self, task_id: int) -> Place:
        """Pick a card up (others see it held); returns where it was. A card held already is
        put back first: one hand, one card."""
        task = self._task(task_id)
        origin = self.board_state.place_of(task_id)
        assert origin is not None
        if self._own_drag is not None:
            self.drag_cancel(self._own_drag.task)
        self._own_drag = DragInfo(task_id, origin, origin)
        self._own_version = task["version"]
        self._last_hover = time.monotonic()
        self.broadcast(messages.DragStart(task_id, task["version"], origin))
        return origin

    async def drag_hover(self, task_id: int, over: Place) -> None:
        """Move a held card over ``over`` (spaced at least 50 ms apart, as the protocol asks)."""
        held = self._own_drag
        if held is None or held.task != task_id:
            raise ActionError(f"task {task_id} is not being dragged")
        wait = self._last_hover + HOVER_INTERVAL - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_hover = time.monotonic()
        if self._own_drag is held:
            self._own_drag = DragInfo(task_id, held.from_, over)
        self.broadcast(messages.DragHover(task_id, over))

    def drag_cancel(self, task_id: int) -> None:
        """Put a held card back where it was."""
        if self._own_drag is not None and self._own_drag.task == task_id:
            self._own_drag = None
            self.broadcast(messages.DragCancel(task_id))

    async def drop(self, task_id: int, to: Place) -> MoveResult:
        """Drop a held card on ``to`` and save the move (docs/protocol.md 2.4) against the version
        it had when it was picked up: a change saved meanwhile is refused (409), not overwritten.
        A card not held is picked up first (others take a drop only of a card its sender held)."""
        self._task(task_id)
        if self.board is None:
            raise ActionError("this session has no board client to save moves with")
        if self._own_drag is None or self._own_drag.task != task_id:
            self.drag_start(task_id)
        self._own_drag = None
        version = self._own_version
        self.broadcast(messages.DragDrop(task_id, to, version))
        self.board_state.add_overlay(task_id, to, version, None, time.monotonic())
        try:
            result = await self.board.move(task_id, to, self.sprint, version)
        except BaseException:
            # Not saved (the board could not be reached, or we are stopping): withdraw the drop
            # now, so nobody shows it as pending until its overlay expires.
            self.board_state.overlays.pop(task_id, None)
            self.broadcast(messages.DragCancel(task_id))
            raise
        kept = self.source.keep(result.task, "self") if result.task is not None else None
        if kept is not None:
            # The kept state settled the overlay, unless it was not newer than ours.
            self.board_state.overlays.pop(task_id, None)
            self.broadcast(messages.TaskUpdated(kept))
        else:
            self.board_state.overlays.pop(task_id, None)
            self.broadcast(messages.DragCancel(task_id))
        return result

    async def move(
        self, task_id: int, to: Place, *, over: Sequence[Place] = (), step: float = 0.0
    ) -> MoveResult:
        """Drag a card as a person would: pick it up, hover over ``over`` then ``to``, drop."""
        self._task(task_id)
        self.drag_start(task_id)
        try:
            for place in (*over, to):
                await asyncio.sleep(step)
                await self.drag_hover(task_id, place)
            await asyncio.sleep(step)
        except BaseException:
            self.drag_cancel(task_id)
            raise
        return await self.drop(task_id, to)

    # --- leaving -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Leave: ``bye`` to everyone, close the websocket and every connection. Idempotent."""
        if self._state in ("closing", "closed"):
            return
        was_live = self._state == "live"
        self._state = "closing"
        self.source.close()
        if was_live:
            if self._own_drag is not None:
                self.drag_cancel(self._own_drag.task)
            self.broadcast(messages.Bye())
            await self._drain_channels(0.5)
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        self.reporter.close()
        await self.signaling.close()
        await self.mesh.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._state = "closed"

    async def _drain_channels(self, timeout: float) -> None:
        """Give queued channel messages (the ``bye``) a moment to leave before closing."""
        deadline = time.monotonic() + timeout
        await asyncio.sleep(0.02)
        while time.monotonic() < deadline:
            channels = [link.channel for link in self.mesh.links.values() if link.channel]
            if all(c.bufferedAmount == 0 or c.readyState != "open" for c in channels):
                break
            await asyncio.sleep(0.02)
