"""How the load generator speaks to each server, in that server's own protocol; nothing measures.

``join`` returns once the server has taken the client in: our ``welcome``, PeerJS's ``OPEN``, and
for y-webrtc (which acknowledges nothing) the echo of the ``announce`` a y-webrtc client publishes
to its room right after subscribing. ``direct`` addresses one frame to one peer: our ``signal``, a
PeerJS ``CANDIDATE``, a y-webrtc ``publish`` to the other peer's own topic (its best case: a real
client publishes to the room). ``fan_out`` sends one event to a room: our hook ``POST
/hooks/board``, a y-webrtc ``publish`` to the room topic, and for PeerJS (no rooms) one addressed
message per member.
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

# An ICE candidate as browsers trickle it: makes every relayed frame about 200 bytes.
CANDIDATE: Final = (
    "candidate:842163049 1 udp 1677729535 127.0.0.1 54321 typ srflx raddr 0.0.0.0 rport 0 "
    "generation 0 ufrag Xa1b network-cost 999"
)
# Compact, as browsers' JSON.stringify writes it (and as all three servers write what they relay).
dumps: Final = functools.partial(json.dumps, separators=(",", ":"))
_MARK: Final = {"\u0000payload": 0}
Event = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """Where a server listens; with ``ws_urls`` (several instances of ours on one Redis), peer
    ``index`` connects to ``ws_urls[index % n]``."""

    name: str
    ws_url: str
    http_url: str
    secret: str = ""
    ws_urls: tuple[str, ...] = ()


@dataclass
class Peer:
    """One connected client: its socket, the address others reach it by, how long joining took."""

    ws: wsclient.ClientSocket
    address: str
    room: str
    join_ms: float


def bench_payload(seq: int) -> Event:
    """The ~200-byte signaling-sized payload; ``t`` is the send time in ns, ``n`` a sequence."""
    candidate = {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0}
    return {"candidate": candidate, "n": seq, "t": time.perf_counter_ns()}


_PAYLOAD_HEAD: Final = dumps(bench_payload(0)).partition('"n":')[0]


def bench_payload_text(seq: int, step: int) -> str:
    """``dumps(bench_payload(seq) | {"s": step})``, formatted directly (the relay's hot path)."""
    return f'{_PAYLOAD_HEAD}"n":{seq},"t":{time.perf_counter_ns()},"s":{step}}}'


async def _receive_type(ws: wsclient.ClientSocket, wanted: str) -> Any:
    """Read messages until one of type ``wanted``; return it parsed."""
    while True:
        try:
            message = json.loads(await ws.receive(timeout=30.0))
        except wsclient.WebSocketClosed as exc:
            raise ConnectionError(f"connection ended while waiting for {wanted}: {exc}") from None
        if message.get("type") == wanted:
            return message
        if message.get("type") in ("error", "ERROR"):
            raise ConnectionError(f"server refused: {message}")


class Adapter:
    """The shape every adapter has."""

    keepalive: str | None = None  # a frame the client must send now and then (None: server pings)

    def __init__(self, target: Target) -> None:
        self.target = target
        self.name = target.name

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
        """What :meth:`direct` writes before and after the payload's JSON."""
        prefix, mark, suffix = self.direct(sender, to, dict(_MARK)).partition(dumps(_MARK))
        if not mark:
            raise ValueError(f"{self.name}: direct() did not embed the payload as compact JSON")
        return prefix, suffix

    async def fan_out(
        self, session: ClientSession, sender: Peer, room: Sequence[Peer], event: Event
    ) -> None:
        for member in room:  # no rooms in PeerJS: one message per member, as a PeerJS app would
            sender.ws.send_str(self.direct(sender, member, event))


class OursAdapter(Adapter):
    """Our signaling server: ``join`` with a ticket, ``signal`` to a peer id, hooks for events."""

    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self._tickets: dict[tuple[str, int], str] = {}

    def _ticket(self, room: str, index: int) -> str:
        secret = self.target.secret
        ticket = self._tickets.pop((room, index), None)
        return ticket or mint_ticket(
            secret, sprint=room, user_id=f"u{index}", name=f"Bench {index}"
        )

    def prepare(self, specs: Sequence[tuple[str, int]]) -> None:
        self._tickets |= {(room, index): self._ticket(room, index) for room, index in specs}

    async def join(self, room: str, index: int) -> tuple[wsclient.ClientSocket, str]:
        urls = self.target.ws_urls
        ws = await wsclient.connect(urls[index % len(urls)] if urls else self.target.ws_url)
        ws.send_str(dumps({"type": "join", "ticket": self._ticket(room, index)}))
        return ws, (await _receive_type(ws, "welcome"))["peer"]

    def direct(self, sender: Peer, to: Peer, payload: Event) -> str:
        return dumps({"type": "signal", "to": to.address, "data": payload})

    async def fan_out(
        self, session: ClientSession, sender: Peer, room: Sequence[Peer], event: Event
    ) -> None:
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
        ws.send_str(
            dumps({"type": "publish", "topic": room, "data": {"type": "announce", "from": inbox}})
        )
        while (await _receive_type(ws, "publish")).get("data", {}).get("from") != inbox:
            pass  # others' announces may come first; ours closes the join
        return ws, inbox

    def direct(self, sender: Peer, to: Peer, payload: Event) -> str:
        return dumps({"type": "publish", "topic": to.address, "data": payload})

    async def fan_out(
        self, session: ClientSession, sender: Peer, room: Sequence[Peer], event: Event
    ) -> None:
        sender.ws.send_str(dumps({"type": "publish", "topic": room[0].room, "data": event}))


class PeerjsAdapter(Adapter):
    """The PeerJS server: connect with ``?key&id&token``, ``{type,dst,payload}`` to a peer id."""

    keepalive = '{"type":"HEARTBEAT"}'  # PeerJS drops a client silent for 60 s

    async def join(self, room: str, index: int) -> tuple[wsclient.ClientSocket, str]:
        peer_id = f"{room}-p{index}"
        ws = await wsclient.connect(f"{self.target.ws_url}?key=peerjs&id={peer_id}&token=t{index}")
        await _receive_type(ws, "OPEN")
        return ws, peer_id

    def direct(self, sender: Peer, to: Peer, payload: Event) -> str:
        return dumps({"type": "CANDIDATE", "dst": to.address, "payload": payload})


ADAPTERS: Final[dict[str, type[Adapter]]] = {
    "ours": OursAdapter,
    BASELINE: OursAdapter,  # ours at the baseline revision speaks the same protocol
    "y-webrtc": YWebrtcAdapter,
    "peerjs": PeerjsAdapter,
}


def adapter_for(target: Target) -> Adapter:
    return ADAPTERS[target.name](target)
