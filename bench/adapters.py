"""How the load generator speaks to each server, in that server's own protocol.

One adapter per server, all of one shape, so each workload in :mod:`bench.loadgen` is written once.
``join`` connects a client and returns once the server has taken it in: our ``welcome``, PeerJS's
``OPEN``, and for y-webrtc (which acknowledges nothing) the echo of the ``announce`` a y-webrtc
client publishes to its room right after subscribing. ``direct`` addresses one frame to one peer:
our ``signal``, a PeerJS ``CANDIDATE``, a y-webrtc ``publish`` to the other peer's own topic (its
best case: a real client publishes to the room topic and every member gets a copy). ``fan_out``
sends one event to a room: our hook ``POST /hooks/board``, a y-webrtc ``publish`` to the room topic,
and for PeerJS (no rooms) one addressed message per member. Nothing here measures.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import ClientSession

from bench import wsclient
from bench.servers import BASELINE
from signaling.tickets import mint_hook_token, mint_ticket

CONNECT_TIMEOUT: Final = 30.0
# An ICE candidate as browsers trickle it: makes every relayed frame about 200 bytes.
CANDIDATE: Final = (
    "candidate:842163049 1 udp 1677729535 127.0.0.1 54321 typ srflx raddr 0.0.0.0 rport 0 "
    "generation 0 ufrag Xa1b network-cost 999"
)
# Compact, as browsers' JSON.stringify writes it (and as all three servers write what they relay).
dumps: Final = functools.partial(json.dumps, separators=(",", ":"))
_PAYLOAD_MARK: Final = {"\u0000payload": 0}
Event = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """Where a server listens."""

    name: str
    ws_url: str
    http_url: str
    secret: str = ""
    # Several instances of ours behind one Redis: peer ``index`` connects to ws_urls[index % n].
    ws_urls: tuple[str, ...] = ()


@dataclass
class Peer:
    """One connected client: its socket, the address others reach it by, how long joining took."""

    ws: wsclient.ClientSocket
    address: str
    room: str
    join_ms: float


Room = Sequence[Peer]


def bench_payload(seq: int) -> Event:
    """The ~200-byte signaling-sized payload; ``t`` is the send time in ns, ``n`` a sequence."""
    return {
        "candidate": {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0},
        "n": seq,
        "t": time.perf_counter_ns(),
    }


# bench_payload() serialised up to its sequence number: the relay's sender formats the rest.
_PAYLOAD_HEAD: Final = dumps(bench_payload(0)).partition('"n":')[0]


def bench_payload_text(seq: int, step: int) -> str:
    """``dumps(bench_payload(seq) | {"s": step})``, formatted directly (the relay's hot path)."""
    return f'{_PAYLOAD_HEAD}"n":{seq},"t":{time.perf_counter_ns()},"s":{step}}}'


async def _receive_type(ws: wsclient.ClientSocket, wanted: str) -> Any:
    """Read messages until one of type ``wanted``; return it parsed."""
    while True:
        try:
            message = json.loads(await ws.receive(timeout=CONNECT_TIMEOUT))
        except wsclient.WebSocketClosed as exc:
            raise ConnectionError(f"connection ended while waiting for {wanted}: {exc}") from None
        if message.get("type") == wanted:
            return message
        if message.get("type") in ("error", "ERROR"):
            raise ConnectionError(f"server refused: {message}")


class Adapter:
    """The shape every adapter has."""

    # A frame the client must send now and then to stay connected (None: the server pings).
    keepalive: str | None = None

    def __init__(self, target: Target) -> None:
        self.target = target

    @property
    def name(self) -> str:
        return self.target.name

    def prepare(self, specs: Sequence[tuple[str, int]]) -> None:
        """Do untimed per-peer work (minting tickets) for ``(room, index)`` before a timed phase."""

    async def join(self, room: str, index: int) -> tuple[wsclient.ClientSocket, str]:
        """Connect one client and wait until it is taken in; its socket and its address."""
        raise NotImplementedError

    async def open_peer(self, room: str, index: int) -> Peer:
        started = time.perf_counter()
        ws, address = await self.join(room, index)
        return Peer(ws, address, room, (time.perf_counter() - started) * 1000)

    def direct(self, sender: Peer, to: Peer, payload: Event) -> str:
        raise NotImplementedError

    def direct_parts(self, sender: Peer, to: Peer) -> tuple[str, str]:
        """What :meth:`direct` writes before and after the payload's JSON, so a sender can
        format messages from a payload's text: ``prefix + payload_json + suffix``."""
        text = self.direct(sender, to, dict(_PAYLOAD_MARK))
        prefix, mark, suffix = text.partition(dumps(_PAYLOAD_MARK))
        if not mark:
            raise ValueError(f"{self.name}: direct() did not embed the payload as compact JSON")
        return prefix, suffix

    async def fan_out(self, session: ClientSession, sender: Peer, room: Room, event: Event) -> None:
        raise NotImplementedError


class OursAdapter(Adapter):
    """Our signaling server: ``join`` with a ticket, ``signal`` to a peer id, hooks for events."""

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self._tickets: dict[tuple[str, int], str] = {}

    def _ticket(self, room: str, index: int) -> str:
        ticket = self._tickets.pop((room, index), None)
        secret = self.target.secret
        return ticket or mint_ticket(
            secret, sprint=room, user_id=f"u{index}", name=f"Bench {index}"
        )

    def prepare(self, specs: Sequence[tuple[str, int]]) -> None:
        for room, index in specs:
            self._tickets[(room, index)] = self._ticket(room, index)

    async def join(self, room: str, index: int) -> tuple[wsclient.ClientSocket, str]:
        urls = self.target.ws_urls
        ws = await wsclient.connect(urls[index % len(urls)] if urls else self.target.ws_url)
        ws.send_str(dumps({"type": "join", "ticket": self._ticket(room, index)}))
        return ws, (await _receive_type(ws, "welcome"))["peer"]

    def direct(self, sender: Peer, to: Peer, payload: Event) -> str:
        return dumps({"type": "signal", "to": to.address, "data": payload})

    async def fan_out(self, session: ClientSession, sender: Peer, room: Room, event: Event) -> None:
        body = dumps({"sprint": room[0].room, "event": event}).encode()
        token = mint_hook_token(self.target.secret, body)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        url = f"{self.target.http_url}/hooks/board"
        async with session.post(url, data=body, headers=headers) as response:
            if response.status != 202:
                raise RuntimeError(f"hook refused: {response.status} {await response.text()}")


class YWebrtcAdapter(Adapter):
    """y-webrtc's server: ``subscribe`` to topics, ``publish`` to a topic."""

    async def join(self, room: str, index: int) -> tuple[wsclient.ClientSocket, str]:
        inbox = f"{room}/peer{index}"
        ws = await wsclient.connect(self.target.ws_url)
        ws.send_str(dumps({"type": "subscribe", "topics": [room, inbox]}))
        announce = {"type": "announce", "from": inbox}
        ws.send_str(dumps({"type": "publish", "topic": room, "data": announce}))
        while (await _receive_type(ws, "publish")).get("data", {}).get("from") != inbox:
            pass  # others' announces may come first; ours closes the join
        return ws, inbox

    def direct(self, sender: Peer, to: Peer, payload: Event) -> str:
        return dumps({"type": "publish", "topic": to.address, "data": payload})

    async def fan_out(self, session: ClientSession, sender: Peer, room: Room, event: Event) -> None:
        sender.ws.send_str(dumps({"type": "publish", "topic": room[0].room, "data": event}))


class PeerjsAdapter(Adapter):
    """The PeerJS server: connect with ``?key&id&token``, ``{type,dst,payload}`` to a peer id."""

    # PeerJS clients send HEARTBEAT every 5 s; the server drops a client silent for 60 s.
    keepalive = '{"type":"HEARTBEAT"}'

    async def join(self, room: str, index: int) -> tuple[wsclient.ClientSocket, str]:
        peer_id = f"{room}-p{index}"
        ws = await wsclient.connect(f"{self.target.ws_url}?key=peerjs&id={peer_id}&token=t{index}")
        await _receive_type(ws, "OPEN")
        return ws, peer_id

    def direct(self, sender: Peer, to: Peer, payload: Event) -> str:
        return dumps({"type": "CANDIDATE", "dst": to.address, "payload": payload})

    async def fan_out(self, session: ClientSession, sender: Peer, room: Room, event: Event) -> None:
        for member in room:  # no rooms in PeerJS: one message per member, as a PeerJS app would
            sender.ws.send_str(self.direct(sender, member, event))


ADAPTERS: Final[dict[str, type[Adapter]]] = {
    "ours": OursAdapter,
    BASELINE: OursAdapter,  # ours at the baseline revision speaks the same protocol
    "y-webrtc": YWebrtcAdapter,
    "peerjs": PeerjsAdapter,
}


def adapter_for(target: Target) -> Adapter:
    return ADAPTERS[target.name](target)
