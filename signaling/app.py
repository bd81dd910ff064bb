"""The aiohttp application: websocket ``/ws``, hook ``/hooks/board``, ``/healthz``, ``/metrics``.

This module only moves bytes. What a message means is decided in ``protocol``, who is where in
``rooms``, whether a token is good in ``tickets``; this layer asks them and sends what they decide.
Sends never await (see ``connection``), so one slow client never holds up a broadcast.

A websocket is served without a task of its own: ``upgrade`` answers the handshake (origin
checked), each frame arrives as a call on the connection's :class:`Client`, a ``join`` is admitted
in a short task (the broker may need a round trip), and ``_closed`` runs the leave when the TCP
connection goes. Join deadlines are timers; heartbeats are one sweep over all sockets.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Sequence
from typing import Any, Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from signaling import protocol, wire
from signaling.broker import Broker, BrokerUnavailable, InMemoryBroker
from signaling.config import Settings
from signaling.connection import CLOSE_TIMEOUT_SECONDS, ClientConnection
from signaling.errors import (
    CapacityExceeded,
    HookRejected,
    ProtocolError,
    RoutingError,
    SignalingError,
    TicketRejected,
)
from signaling.ice import ice_servers_for
from signaling.logs import events, log_event, log_signal
from signaling.metrics import SignalingMetrics
from signaling.ratelimit import TokenBucket
from signaling.rooms import Member, Rooms
from signaling.tickets import (
    ReplayGuard,
    derive_key,
    peer_from_resume_token,
    resume_token,
    verify_hook,
    verify_ticket,
)

CLOSE_NO_JOIN: Final = 4408
CLOSE_RATE_LIMITED: Final = 4429
CLOSE_ABUSE: Final = 4400
CLOSE_REPLACED: Final = 4000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_TRY_AGAIN: Final = 1013

PEER_UNREACHABLE: Final = (
    "that peer is on another signaling instance, which cannot be reached right now; "
    "message not delivered"
)

_IN_SIGNAL: Final = ("in", "signal")

BINARY_REFUSED: Final = ProtocolError(
    "binary frames are not supported; send JSON text", code="binary-not-supported"
)
JOIN_FIRST: Final = ProtocolError("join first: the first message must be join", code="not-joined")


class Client:
    """Per-connection protocol state: the socket, its rate-limit buckets, and what happens to its
    frames (it is the connection's :class:`~signaling.connection.ConnectionEvents`).

    The relay and invalid-message buckets are made on first use; most clients never need them.
    """

    __slots__ = (
        "_invalid",
        "_relays",
        "backlog",
        "connection",
        "deadline",
        "messages",
        "name",
        "server",
    )

    def __init__(self, server: SignalingServer, connection: ClientConnection) -> None:
        self.server = server
        self.connection = connection
        self.messages = TokenBucket(server.settings.rate, server.settings.burst)
        self._relays: TokenBucket | None = None
        self._invalid: TokenBucket | None = None
        self.name: str | None = None
        # Frames that arrive while the join is being admitted wait here, in order.
        self.backlog: list[str] | None = None
        self.deadline: asyncio.TimerHandle | None = None

    @property
    def relays(self) -> TokenBucket:
        if self._relays is None:
            settings = self.server.settings
            self._relays = TokenBucket(settings.relay_rate, settings.relay_burst)
        return self._relays

    @property
    def invalid(self) -> TokenBucket:
        if self._invalid is None:
            settings = self.server.settings
            self._invalid = TokenBucket(settings.invalid_rate, settings.invalid_burst)
        return self._invalid

    # --- ConnectionEvents ----------------------------------------------------------------------

    def on_text(self, text: str) -> None:
        state = self.connection.state
        if state == "joined":
            self.server._on_text(self, text)
        elif state == "connecting":
            self.server._before_join(self, text)
        elif state == "joining" and self.server._within_rate(self):
            if self.backlog is None:
                self.backlog = []
            self.backlog.append(text)

    def on_binary(self) -> None:
        if self.server._within_rate(self):
            self.server._bad_input(self, BINARY_REFUSED)

    def on_socket_error(self, error: BaseException) -> None:
        self.server._log_socket_error(self, error)

    def on_overflow(self) -> None:
        self.server.metrics.rejects.labels("slow-client").inc()

    def on_closed(self) -> None:
        self.server._closed(self)


class SignalingServer:
    """Rooms, connections and metrics of one server, and the handlers that use them."""

    def __init__(self, settings: Settings, broker: Broker | None = None) -> None:
        self.settings = settings
        self.broker = broker or broker_for(settings)
        self.rooms = Rooms(
            max_peers_per_sprint=settings.max_peers_per_sprint,
            max_rooms=settings.max_rooms,
            instance=self.broker.instance,
        )
        self._background: set[asyncio.Task[Any]] = set()
        self.metrics = SignalingMetrics()
        self.clients: set[Client] = set()
        self.by_peer: dict[str, Client] = {}
        self.replay_guard = ReplayGuard()
        self.resume_key = derive_key(settings.secret, "resume")
        self.shutting_down = False
        self.started = time.monotonic()
        self._numbers = itertools.count(1)
        self._heartbeat: asyncio.Task[None] | None = None

    # --- websocket: upgrade and admission ------------------------------------------------------

    def upgrade(self, transport: asyncio.Transport, head: wire.RequestHead, rest: bytes) -> None:
        """Answer a ``GET /ws`` upgrade on ``transport`` and, if accepted, serve the websocket."""
        peername = transport.get_extra_info("peername")
        address = str(peername[0]) if peername else "?"
        origin = head.headers.get("origin")
        try:
            accept = wire.websocket_accept(head)
            if not self.settings.origin_allowed(origin):
                self._reject("origin", addr=address, origin=origin)
                raise wire.HandshakeError(
                    403, f"origin {origin!r} is not allowed to open a websocket"
                )
        except wire.HandshakeError as exc:
            if exc.status != 403:
                self._reject("bad-upgrade", addr=address, detail=exc.reason)
            transport.write(wire.http_error_response(exc.status, exc.reason))
            transport.close()
            return
        transport.write(wire.handshake_response(accept))
        connection = ClientConnection(
            transport,
            address=address,
            number=next(self._numbers),
            max_frame=self.settings.max_frame_bytes,
            max_buffer=self.settings.send_buffer_bytes,
        )
        transport.set_protocol(connection)
        self._open(connection)
        if rest:
            connection.data_received(rest)

    def _open(self, connection: ClientConnection) -> None:
        client = Client(self, connection)
        connection.events = client
        if self.shutting_down:
            connection.close(CLOSE_GOING_AWAY, "server shutting down")
            return
        if len(self.clients) >= self.settings.max_connections:
            self._reject("server-full", addr=connection.address)
            connection.close(
                CapacityExceeded.close_code,
                f"server is at its limit of {self.settings.max_connections} connections",
            )
            return
        self.clients.add(client)
        self.metrics.connections.inc()
        client.deadline = asyncio.get_running_loop().call_later(
            self.settings.join_timeout, self._join_deadline, client
        )

    def _join_deadline(self, client: Client) -> None:
        client.deadline = None
        if client.connection.state == "connecting":
            self._reject("no-join", addr=client.connection.address)
            client.connection.close(
                CLOSE_NO_JOIN, f"no join within {self.settings.join_timeout:g} s"
            )

    def _closed(self, client: Client) -> None:
        """The TCP connection is gone: forget the client and tell its sprint."""
        if client.deadline is not None:
            client.deadline.cancel()
            client.deadline = None
        if client in self.clients:
            self.clients.discard(client)
            self.metrics.connections.dec()
        self._depart(client)

    def _before_join(self, client: Client, text: str) -> None:
        """Handle one frame of a connection that has not joined; start the join if it is one."""
        if not self._within_rate(client):
            return
        try:
            parsed = protocol.parse_client_message(text)
        except ProtocolError as exc:
            self._bad_input(client, exc)
            return
        if isinstance(parsed, protocol.Join):
            client.connection.state = "joining"
            if client.deadline is not None:
                client.deadline.cancel()
                client.deadline = None
            self._spawn(self._join(client, parsed))
        elif isinstance(parsed, protocol.Ping):
            client.connection.send(protocol.PONG)
        else:
            self._bad_input(client, JOIN_FIRST)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _join(self, client: Client, join: protocol.Join) -> None:
        connection = client.connection
        try:
            claims = verify_ticket(join.ticket, self.settings.secret)
        except TicketRejected as exc:
            self._reject("bad-ticket", addr=connection.address, detail=exc.message)
            connection.close(exc.close_code, exc.message)
            return
        resume_peer = None
        if join.resume:
            resume_peer = peer_from_resume_token(
                self.resume_key, join.resume, sprint=claims.sprint, user_id=claims.user_id
            )
            if resume_peer is None:
                log_event(
                    "resume-refused",
                    sprint=claims.sprint,
                    user=claims.user_id,
                    reason="resume token not valid for this sprint and user; new peer id",
                )
        # Peers announced on other instances while the broker answers are kept for this join.
        self.rooms.begin_entering(claims.sprint)
        try:
            remote = await self.broker.enter_sprint(claims.sprint)
            if connection.state != "joining":
                return  # the socket went away while the broker answered
            admission = self.rooms.join(
                sprint=claims.sprint,
                user_id=claims.user_id,
                name=claims.name,
                connection=connection.number,
                resume_peer=resume_peer,
                known_remote=remote,
            )
        except (CapacityExceeded, BrokerUnavailable) as exc:
            code = exc.close_code if isinstance(exc, CapacityExceeded) else CLOSE_TRY_AGAIN
            self._reject(exc.code, addr=connection.address, sprint=claims.sprint)
            connection.close(code, exc.message)
            return
        finally:
            self.rooms.end_entering(claims.sprint)
        member = admission.member
        try:
            await self.broker.announce_join(member)
        except BrokerUnavailable as exc:
            self._reject(exc.code, addr=connection.address, sprint=claims.sprint)
            self.rooms.leave(member.peer, connection.number)
            connection.close(CLOSE_TRY_AGAIN, exc.message)
            return
        previous = self.by_peer.get(member.peer)
        connection.peer, connection.sprint, connection.user_id = (
            member.peer,
            member.sprint,
            member.user_id,
        )
        client.name = member.name
        self.by_peer[member.peer] = client
        if connection.state != "joining":
            # Closed while the broker was told: undo the join the normal way (peer-left to all).
            self._depart(client)
            return
        connection.state = "joined"
        welcome = protocol.welcome(
            peer=member.peer,
            sprint=member.sprint,
            peers=[other.public() for other in admission.others],
            ice_servers=ice_servers_for(self.settings, member.user_id, time.time()),
            resume=resume_token(
                self.resume_key, sprint=member.sprint, user_id=member.user_id, peer=member.peer
            ),
        )
        self._send(client, welcome)
        if admission.replaced is not None:
            if previous is not None and previous is not client:
                previous.connection.close(
                    CLOSE_REPLACED, "replaced: this peer resumed on a newer connection"
                )
        else:
            joined = protocol.encode(
                protocol.peer_joined(member.peer, protocol.user_dict(member.user_id, member.name))
            )
            local = [other for other in admission.others if self.rooms.is_local(other)]
            self._broadcast(local, joined, "peer-joined")
        log_event(
            "resume" if admission.replaced or resume_peer else "join",
            sprint=member.sprint,
            peer=member.peer,
            user=member.user_id,
            name=member.name,
            addr=connection.address,
            peers=len(admission.others) + 1,
        )
        self._update_gauges()
        backlog, client.backlog = client.backlog, None
        for text in backlog or ():
            if connection.state != "joined":
                break
            self._on_text(client, text)

    # --- websocket: heartbeats ------------------------------------------------------------------

    async def _heartbeats(self, interval: float) -> None:
        """Ping quiet sockets every ``interval`` s; drop those that stay silent half as long again.

        One sweep for all connections instead of a timer per socket. Any data from a client
        counts as a sign of life, so only idle sockets are pinged. A lost one is found within
        2.5 intervals.
        """
        step = interval / 2
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            for client in list(self.clients):
                connection = client.connection
                if connection.state != "joined":
                    continue
                if connection.ping_sent and connection.last_seen < connection.ping_sent:
                    if now - connection.ping_sent >= step:
                        connection.lost_reason = "heartbeat lost (no pong)"
                        connection.abort()
                elif now - connection.last_seen >= interval:
                    connection.ping(now)

    def _within_rate(self, client: Client) -> bool:
        """Take a token from the client's message bucket; on a flood, ask for a 4429 close.

        Buckets are read at ``connection.last_seen``, the time the frame's bytes arrived (taken
        once per read in ``data_received``), not at a fresh clock reading per message.
        """
        if client.messages.allow(client.connection.last_seen):
            return True
        self._flooded(client)
        return False

    def _flooded(self, client: Client) -> None:
        connection = client.connection
        if connection.state != "closing":
            self._reject("rate-limited", peer=connection.peer, addr=connection.address)
            connection.close(
                CLOSE_RATE_LIMITED,
                f"rate limit exceeded: more than {self.settings.rate:g} messages/s "
                f"(burst {self.settings.burst})",
            )

    def _on_text(self, client: Client, text: str) -> None:
        """One frame from a joined peer. ``signal`` (nearly every frame) is checked first."""
        connection = client.connection
        if not client.messages.allow(connection.last_seen):
            self._flooded(client)
            return
        try:
            message = protocol.parse_client_message(text)
        except ProtocolError as exc:
            self._bad_input(client, exc)
            return
        if type(message) is protocol.Signal:
            self._relay_signal(client, message.to, message.data)
            return
        self.metrics.count_message("in", protocol.MESSAGE_TYPES[type(message)])
        if isinstance(message, protocol.Ping):
            connection.send(protocol.PONG)
        elif isinstance(message, protocol.Join):
            self._bad_input(
                client,
                ProtocolError(
                    "already joined; open a new connection to join another sprint",
                    code="already-joined",
                ),
            )
        elif isinstance(message, protocol.Relay):
            if not client.relays.allow(connection.last_seen):
                self._reject("relay-rate-limited", peer=connection.peer)
                self._send(
                    client,
                    protocol.error("rate-limited", "relay rate limit exceeded; message dropped"),
                )
                return
            self._forward_relay(client, message.to, message.data)

    def _relay_signal(self, client: Client, to: str, data: dict[str, Any]) -> None:
        """Forward one ``signal`` and log it. Every relayed message takes this path, so it calls
        as little as it can, with the counters as plain dict increments: each call saved shows in
        the CPU per message (docs/benchmarks.md)."""
        self.metrics.messages[_IN_SIGNAL] += 1
        sender = client.connection.peer
        assert sender is not None
        try:
            target = self.rooms.route(sender, to)
        except RoutingError as exc:
            self._unroutable(client, sender, exc)
            return
        payload = protocol.signal_bytes(sender, data)
        if not self._deliver(client, target, payload, "signal"):
            return
        size = len(payload)
        self.metrics.relayed_bytes["signal"] += size
        summary = protocol.describe_signal(data)
        types = summary.candidate_types
        log_signal(
            target.sprint,
            sender,
            target.peer,
            summary.kind,
            size,
            types[0] if len(types) == 1 else ",".join(types),
        )
        if self.settings.debug:
            log_event("signal-data", logging.DEBUG, data=data)

    def _forward_relay(self, client: Client, to: str, data: dict[str, Any]) -> None:
        """Forward one ``relay`` (a data-channel message with no direct link); DEBUG log only."""
        sender = client.connection.peer
        assert sender is not None
        target = self._route(client, sender, to)
        if target is None:
            return
        payload = protocol.encode_bytes(protocol.relay_from(sender, data))
        if not self._deliver(client, target, payload, "relay"):
            return
        self.metrics.count_relayed_bytes("relay", len(payload))
        log_event(
            "relay",
            logging.DEBUG,
            sprint=target.sprint,
            **{"from": sender},
            to=target.peer,
            bytes=len(payload),
        )

    def _route(self, client: Client, sender: str, to: str) -> Member | None:
        """The member ``sender`` addresses as ``to``; None (and the sender told why) if none."""
        try:
            return self.rooms.route(sender, to)
        except RoutingError as exc:
            self._unroutable(client, sender, exc)
            return None

    def _unroutable(self, client: Client, sender: str, exc: RoutingError) -> None:
        self._reject(exc.code, peer=sender, sprint=client.connection.sprint)
        self._send(client, protocol.error(exc.code, exc.message))

    def _deliver(self, client: Client, target: Member, payload: bytes, kind: str) -> bool:
        """Send one encoded message to ``target``, here or through the broker; False (and the
        sender told) if its instance cannot be reached."""
        if target.instance == self.rooms.instance:
            recipient = self.by_peer.get(target.peer)
            if recipient is not None:
                recipient.connection.send_text_payload(payload)
                self.metrics.messages["out", kind] += 1
            return True
        if self.broker.send_to_peer(target, payload.decode()):
            return True
        # Counted, not logged: the broker's outage is logged once, not once per message.
        self.metrics.rejects.labels("peer-unreachable").inc()
        self._send(client, protocol.error("unavailable", PEER_UNREACHABLE))
        return False

    def _depart(self, client: Client) -> None:
        connection = client.connection
        peer = connection.peer
        if peer is None:
            return
        member = self.rooms.member(peer)
        others = self.rooms.leave(peer, connection.number)
        if self.by_peer.get(peer) is client:
            del self.by_peer[peer]
        if others is None or member is None:
            return  # replaced by a resumed connection: the peer never left
        self.broker.announce_leave(member, last_in_sprint=not others)
        reason = self._leave_reason(connection)
        log_event(
            "leave",
            sprint=connection.sprint,
            peer=peer,
            user=connection.user_id,
            name=client.name,
            addr=connection.address,
            reason=reason,
        )
        if not self.shutting_down:
            self._tell_left(peer, others)
        self._update_gauges()

    def _tell_left(self, peer: str, local_members: tuple[Member, ...]) -> None:
        self._broadcast(local_members, protocol.encode(protocol.peer_left(peer)), "peer-left")

    def _tell_joined(self, member: Member) -> None:
        text = protocol.encode(
            protocol.peer_joined(member.peer, protocol.user_dict(member.user_id, member.name))
        )
        others = [m for m in self.rooms.local_members(member.sprint) if m.peer != member.peer]
        self._broadcast(others, text, "peer-joined")

    # --- news from other instances (BrokerListener) --------------------------------------------

    def remote_joined(self, member: Member) -> None:
        known = self.rooms.member(member.peer)
        if known is not None and self.rooms.is_local(known) and known.sprint == member.sprint:
            self._retire_local(known)
        if self.rooms.add_remote(member):
            self._tell_joined(member)
            self._update_gauges()

    def remote_left(self, member: Member) -> None:
        local = self.rooms.remove_remote(member)
        if local is not None:
            self._tell_left(member.peer, local)
            self._update_gauges()

    def remote_synced(self, sprint: str, instance: str, members: list[Member]) -> None:
        joined, left = self.rooms.sync_instance(sprint, instance, members)
        for member in joined:
            self._tell_joined(member)
        for member, local in left:
            self._tell_left(member.peer, local)

    def instance_lost(self, instance: str) -> list[Member]:
        removed = self.rooms.remove_instance(instance)
        for member, local in removed:
            self._tell_left(member.peer, local)
        self._update_gauges()
        return [member for member, _ in removed]

    def deliver_to_peer(self, peer: str, text: str) -> None:
        self._send_text(peer, text, "remote")

    def deliver_to_sprint(self, sprint: str, text: str) -> None:
        self._broadcast(self.rooms.local_members(sprint), text, "event")

    def known_instances(self) -> set[str]:
        return self.rooms.remote_instances()

    def _retire_local(self, member: Member) -> None:
        """Our socket for ``member`` was superseded by a resume on another instance: close it
        without telling anyone, since the peer never left."""
        client = self.by_peer.pop(member.peer, None)
        if client is not None:
            client.connection.close(
                CLOSE_REPLACED, "replaced: this peer resumed on a newer connection"
            )

    def _leave_reason(self, connection: ClientConnection) -> str:
        if self.shutting_down:
            return "server shutting down"
        if connection.lost_reason is not None:
            return connection.lost_reason
        if connection.close_code is None:
            return "connection lost"
        return f"closed ({connection.close_code})"

    # --- sending ------------------------------------------------------------------------------

    def _send(self, client: Client, message: dict[str, Any]) -> None:
        client.connection.send(protocol.encode(message))
        self.metrics.count_message("out", str(message["type"]))

    def _broadcast(self, members: Sequence[Member], text: str, kind: str) -> None:
        """One text to several local members: the frame is built once, then written to each."""
        frame = wire.text_frame(text)
        by_peer = self.by_peer
        sent = 0
        for member in members:
            client = by_peer.get(member.peer)
            if client is not None:
                client.connection.send_frame(frame)
                sent += 1
        if sent:
            self.metrics.count_message("out", kind, sent)

    def _send_text(self, peer: str, text: str, kind: str) -> None:
        client = self.by_peer.get(peer)
        if client is not None:
            client.connection.send(text)
            self.metrics.count_message("out", kind)

    # --- refusals and bad input ---------------------------------------------------------------

    def _reject(self, reason: str, **fields: Any) -> None:
        self.metrics.rejects.labels(reason).inc()
        log_event("refused", reason=reason, **fields)

    def _bad_input(self, client: Client, exc: SignalingError) -> None:
        connection = client.connection
        self.metrics.rejects.labels(exc.code).inc()
        log_event(
            "bad-message",
            peer=connection.peer,
            addr=connection.address,
            code=exc.code,
            message=exc.message,
        )
        self._send(client, protocol.error(exc.code, exc.message))
        if not client.invalid.allow(client.connection.last_seen):
            self._reject("abuse", peer=connection.peer, addr=connection.address)
            connection.close(CLOSE_ABUSE, "too many invalid messages")

    def _log_socket_error(self, client: Client, error: object) -> None:
        code = getattr(error, "code", None)
        reason = "frame-too-large" if code == 1009 else "socket-error"
        self._reject(
            reason,
            peer=client.connection.peer,
            addr=client.connection.address,
            detail=str(error)[:200],
        )

    # --- hook, health, metrics ----------------------------------------------------------------

    async def handle_plain_ws_request(self, request: web.Request) -> web.Response:
        """``/ws`` reached aiohttp: not an upgrade, or not the first request on its connection.

        Upgrades arriving as a connection's first request are taken by ``serving.UpgradeSniffer``
        before aiohttp sees them; anything else here gets a clear answer instead of a 404.
        """
        return web.Response(
            status=426,
            text="/ws is a websocket endpoint: open it with a websocket upgrade "
            "on a new connection",
            headers={"Upgrade": "websocket", "Connection": "close"},
        )

    async def handle_hook(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self._hook_refused("body-too-large", request)
            return web.json_response(
                {"error": f"body larger than {self.settings.hook_max_bytes} bytes"}, status=413
            )
        try:
            verify_hook(
                request.headers.get("Authorization"), body, self.settings.secret, self.replay_guard
            )
        except HookRejected as exc:
            self._hook_refused(exc.message, request)
            return web.json_response({"error": exc.message}, status=401)
        try:
            sprint, event = parse_hook_body(body)
        except ValueError as exc:
            self._hook_refused(str(exc), request)
            return web.json_response({"error": str(exc)}, status=400)
        text = protocol.encode(protocol.board_event(event))
        local = self.rooms.local_members(sprint)
        self._broadcast(local, text, "event")
        self.broker.publish_to_sprint(sprint, text)
        everywhere = await self.broker.sprint_size(sprint)
        delivered = len(local) if everywhere is None else everywhere
        self.metrics.hook_events.labels("delivered").inc()
        log_event(
            "hook",
            sprint=sprint,
            model=event.get("model"),
            action=event.get("action"),
            delivered=delivered,
            bytes=len(body),
        )
        return web.json_response({"delivered": delivered}, status=202)

    def _hook_refused(self, reason: str, request: web.Request) -> None:
        self.metrics.hook_events.labels("rejected").inc()
        log_event("hook-refused", logging.WARNING, reason=reason, addr=request.remote)

    async def handle_healthz(self, request: web.Request) -> web.Response:
        status = "ok" if self.broker.available else "degraded: broker unavailable"
        return web.json_response(
            {
                "status": "shutting-down" if self.shutting_down else status,
                "connections": len(self.clients),
                "rooms": self.rooms.room_count,
                "peers": self.rooms.peer_count,
                "broker": self.settings.broker.split("://")[0],
                "instance": self.broker.instance,
            },
            status=503 if self.shutting_down else 200,
        )

    async def handle_metrics(self, request: web.Request) -> web.Response:
        self._update_gauges()
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    def _update_gauges(self) -> None:
        self.metrics.rooms.set(self.rooms.room_count)
        self.metrics.peers.set(self.rooms.peer_count)

    # --- lifecycle ----------------------------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        await self.broker.start(self)
        if self.settings.heartbeat > 0:
            self._heartbeat = asyncio.create_task(self._heartbeats(self.settings.heartbeat))
        settings = self.settings
        log_event(
            "started",
            origins=",".join(settings.allowed_origins)
            or ("any (debug)" if settings.debug else "none"),
            max_frame_bytes=settings.max_frame_bytes,
            rate=settings.rate,
            max_peers_per_sprint=settings.max_peers_per_sprint,
            broker=settings.broker.split("://")[0],
            instance=self.broker.instance,
            ice_servers=len(settings.ice_servers) + (1 if settings.turn_urls else 0),
        )

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every socket with 1001 so clients reconnect elsewhere, then log a summary."""
        self.shutting_down = True
        clients = list(self.clients)
        log_event(
            "shutdown",
            connections=len(clients),
            rooms=self.rooms.room_count,
            peers=self.rooms.peer_count,
            uptime_s=round(time.monotonic() - self.started, 1),
        )
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        for client in clients:
            client.connection.close(CLOSE_GOING_AWAY, "server shutting down")
        await asyncio.gather(
            *(c.connection.wait_closed(CLOSE_TIMEOUT_SECONDS) for c in clients),
            return_exceptions=True,
        )

    async def on_cleanup(self, app: web.Application) -> None:
        for task in list(self._background):
            task.cancel()
        await self.broker.close()
        events.flush()


def broker_for(settings: Settings) -> Broker:
    """The broker named by ``--broker``: ``memory`` (default) or a ``redis://`` URL."""
    if settings.broker == "memory":
        return InMemoryBroker()
    from signaling.redis_broker import RedisBroker

    return RedisBroker(settings.broker, presence_ttl=settings.presence_ttl)


def parse_hook_body(body: bytes) -> tuple[str, dict[str, Any]]:
    """``{"sprint":S,"event":{...}}`` → (sprint as a string, event); ValueError names the fault."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("hook body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("hook body must be a JSON object")
    sprint = payload.get("sprint")
    if isinstance(sprint, bool) or not isinstance(sprint, str | int) or sprint == "":
        raise ValueError('hook body needs "sprint" (a string or an integer)')
    event = payload.get("event")
    if not isinstance(event, dict):
        raise ValueError('hook body needs "event" (a JSON object)')
    return str(sprint), event


SERVER: Final = web.AppKey("server", SignalingServer)


def create_app(settings: Settings) -> web.Application:
    """Build the signaling application for ``settings`` (no sockets are opened here)."""
    app = web.Application(client_max_size=settings.hook_max_bytes)
    server = SignalingServer(settings)
    app[SERVER] = server
    app.router.add_get("/ws", server.handle_plain_ws_request)
    app.router.add_post("/hooks/board", server.handle_hook)
    app.router.add_get("/healthz", server.handle_healthz)
    app.router.add_get("/metrics", server.handle_metrics)
    app.on_startup.append(server.on_startup)
    app.on_shutdown.append(server.on_shutdown)
    app.on_cleanup.append(server.on_cleanup)
    return app
