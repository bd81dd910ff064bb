"""The one asyncio load generator: four workloads, each bounded in count and in time.

Each takes an :class:`~bench.adapters.Adapter` (the server's own protocol) and the server's pids
(its memory and CPU are read from /proc) and returns a plain dict for the results JSON. All traffic
goes to the adapter's target on 127.0.0.1; nothing here starts a server.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp

from bench import procstat
from bench.adapters import Adapter, Peer, bench_payload, bench_payload_text
from bench.stats import latency_summary, percentile

P99_LIMIT_MS: Final = 50.0
CONNECT_CONCURRENCY: Final = 128
Specs = Sequence[tuple[str, int]]  # (room, index) of each peer to open


def idle_specs(first: int, stop: int) -> list[tuple[str, int]]:
    """Idle clients ``first .. stop - 1``, in rooms of two."""
    return [(f"idle{i // 2}", i) for i in range(first, stop)]


class Meter:
    """Wall time, the generator's CPU and the server's CPU and write calls since it was made."""

    def __init__(self, pids: procstat.Pids) -> None:
        self.pids, self._started = pids, time.perf_counter()
        self._server, self._writes = procstat.cpu_seconds(pids), procstat.write_calls(pids)
        self._own = procstat.self_cpu_seconds()

    def seconds(self) -> float:
        return time.perf_counter() - self._started

    def own_cpu(self) -> float:
        return procstat.self_cpu_seconds() - self._own

    def server_cpu(self) -> float:
        return procstat.cpu_seconds(self.pids) - self._server

    def writes(self) -> int:
        return procstat.write_calls(self.pids) - self._writes


@dataclass
class Inbox:
    """What the readers collected: latencies by step, deliveries by event number."""

    latencies: dict[int, list[float]] = field(default_factory=dict)
    deliveries: dict[int, int] = field(default_factory=dict)
    control: int = 0
    on_delivery: Callable[[int, float], None] | None = None  # (sequence number, latency ms)


# The end of a benchmark payload as every server relays it (compact JSON, keys in order).
_STAMP = re.compile(rb'"n":(\d+),"t":(\d+)(?:,"s":(\d+))?\}')


def reader(inbox: Inbox) -> Callable[[bytes], None]:
    """The callback each text message goes to: records benchmark payloads in ``inbox``. Sequence,
    send time and step are read with one regular expression: parsing the whole JSON cost the
    generator more than the servers spend per message."""
    latencies, deliveries, find_stamp = inbox.latencies, inbox.deliveries, _STAMP.search

    def received(data: bytes) -> None:
        now = time.perf_counter_ns()
        stamp = find_stamp(data)
        if stamp is None:
            inbox.control += 1
            return
        number, latency_ms = int(stamp[1]), (now - int(stamp[2])) / 1e6
        latencies.setdefault(int(stamp[3] or 0), []).append(latency_ms)
        deliveries[number] = deliveries.get(number, 0) + 1
        if inbox.on_delivery is not None:
            inbox.on_delivery(number, latency_ms)

    return received


class Crowd:
    """Connected peers with their reader and a client session; leaving ``async with`` closes them
    (each socket bounded: aborted if the server does not end it in time)."""

    def __init__(self, adapter: Adapter, *, keepalive: bool = False) -> None:
        self.adapter, self.peers, self.inbox = adapter, list[Peer](), Inbox()
        self.failures: list[str] = []
        self._received = reader(self.inbox)
        self._keepalive = keepalive and adapter.keepalive is not None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Crowd:
        connector = aiohttp.TCPConnector(limit=0)  # no cap: each websocket holds one connection
        self.session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(60))
        if self._keepalive:
            self._task = asyncio.create_task(self._keep_alive())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        for peer in self.peers:
            peer.ws.on_text = lambda data: None  # stop recording
        await asyncio.gather(*(peer.ws.close(30.0) for peer in self.peers), return_exceptions=True)
        await self.session.close()

    async def open(self, specs: Specs, concurrency: int = CONNECT_CONCURRENCY) -> list[Peer]:
        """Open one peer per ``(room, index)``, at most ``concurrency`` joins in flight."""
        gate = asyncio.Semaphore(concurrency)

        async def one(room: str, index: int) -> Peer | None:
            async with gate:
                try:
                    peer = await self.adapter.open_peer(room, index)
                except (aiohttp.ClientError, ConnectionError, OSError, TimeoutError) as exc:
                    self.failures.append(f"{type(exc).__name__}: {exc}"[:200])
                    return None
                peer.ws.listen(self._received)
                return peer

        opened = await asyncio.gather(*(one(room, index) for room, index in specs))
        peers = [peer for peer in opened if peer is not None]
        self.peers.extend(peers)
        return peers

    async def _keep_alive(self, interval: float = 5.0) -> None:
        while True:
            await asyncio.sleep(interval)
            for peer in self.peers:
                peer.ws.send_str(str(self.adapter.keepalive))

    def open_count(self) -> int:
        return sum(not peer.ws.closed for peer in self.peers)


async def idle_connections(
    adapter: Adapter,
    server_pid: int,
    levels: Sequence[int],
    *,
    hold_seconds: float = 5.0,
    settle_seconds: float = 2.0,
) -> dict[str, Any]:
    """Connect up to each level in turn (rooms of two), then hold the last level. Per level: the
    server's PSS per connection above its idle baseline and that step's connect rate; after the
    hold, how many are still open (an unanswered heartbeat would have dropped them)."""
    baseline, steps = procstat.pss(server_pid), list[dict[str, Any]]()
    async with Crowd(adapter, keepalive=True) as crowd:
        made = 0
        for level in levels:
            adapter.prepare(specs := idle_specs(made, level))
            started = time.perf_counter()
            await crowd.open(specs)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(settle_seconds)
            connected = len(crowd.peers)
            step: dict[str, Any] = {"level": level, "connected": connected}
            step["connect_rate_per_s"] = round((connected - made) / elapsed, 1)
            step["pss_per_conn_bytes"] = round((procstat.pss(server_pid) - baseline) / connected)
            steps.append(step)
            made = connected
            if connected < level:
                break  # the server refused some: no point in going higher
        await asyncio.sleep(hold_seconds)
        held = crowd.open_count()
    return {
        "steps": steps,
        "hold_seconds": hold_seconds,
        "held_open": held,
        "failures": len(crowd.failures),
        "failure_examples": crowd.failures[:3],
    }


async def _pace(
    adapter: Adapter, pairs: Sequence[tuple[Peer, Peer]], rate: float, seconds: float, step: int
) -> int:
    """Send ``rate`` messages/s for ``seconds``, round-robin over the pairs, every pair one way,
    then the other. The text around the payload is formatted once per direction."""
    lanes = [*pairs, *((b, a) for a, b in pairs)]
    order = [(sender.ws, *adapter.direct_parts(sender, receiver)) for sender, receiver in lanes]
    loop = asyncio.get_running_loop()
    start, sent, count = loop.time(), 0, len(order)
    while (now := loop.time()) - start < seconds:
        due = int((now - start) * rate)
        while sent < due:
            ws, prefix, suffix = order[sent % count]
            ws.send_bytes_as_text((prefix + bench_payload_text(sent, step) + suffix).encode())
            sent += 1
        await asyncio.sleep(0.001)
    return sent


async def directed_relay(
    adapter: Adapter,
    server_pid: procstat.Pids,
    *,
    rooms: int,
    rates: Sequence[float],
    step_seconds: float = 3.0,
    drain_seconds: float = 2.0,
    stop_after_failures: int = 1,
) -> dict[str, Any]:
    """Rooms of two peers exchanging ~200-byte messages at each offered rate of the ladder.

    Per step: messages sent and received, latency p50/p99 from send to arrival, the server's CPU
    and write calls per delivered message, and whether the generator was the limit (out of CPU,
    or it could not send at the offered rate). A step is *sustained* when p99 ≤ 50 ms and 99 %
    arrived; ``stop_after_failures`` failed steps in a row end the ladder.
    """
    specs = [(f"relay{room}", index) for room in range(rooms) for index in (0, 1)]
    adapter.prepare(specs)
    steps: list[dict[str, Any]] = []
    async with Crowd(adapter) as crowd:
        peers = await crowd.open(specs)
        if len(peers) != len(specs):
            raise RuntimeError(f"only {len(peers)} of {len(specs)} joined: {crowd.failures[:3]}")
        pairs = list(zip(peers[::2], peers[1::2], strict=True))  # rooms in spec order
        failures = 0
        for step, rate in enumerate(rates, start=1):
            meter = Meter(server_pid)
            sent = await _pace(adapter, pairs, rate, step_seconds, step)
            paced, own_cpu = meter.seconds(), meter.own_cpu()
            deadline = time.perf_counter() + drain_seconds
            while len(crowd.inbox.latencies.get(step, ())) < sent:
                if time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.01)
            cpu, writes = meter.server_cpu(), meter.writes()
            latencies = crowd.inbox.latencies.pop(step, [])
            received, summary = len(latencies), latency_summary(latencies)
            sustained = received >= 0.99 * sent and summary["p99_ms"] <= P99_LIMIT_MS
            short = sent < 0.97 * rate * step_seconds - 2
            steps.append(
                {
                    "offered_per_s": rate,
                    "sent": sent,
                    "received": received,
                    **summary,
                    "server_cpu_us_per_msg": round(1e6 * cpu / max(received, 1), 2),
                    "server_cpu_share": round(cpu / paced, 3),
                    "server_writes_per_msg": round(writes / max(received, 1), 3),
                    "generator_bound": short or own_cpu / paced > 0.9,
                    "sustained": sustained,
                }
            )
            failures = 0 if sustained else failures + 1
            if failures >= stop_after_failures:
                break
    best = max((s["offered_per_s"] for s in steps if s["sustained"]), default=0.0)
    return {"rooms": rooms, "steps": steps, "max_sustained_per_s": best}


async def join_storm(
    adapter: Adapter, server_pid: procstat.Pids, *, room_size: int, peers: int
) -> dict[str, Any]:
    """``peers`` clients joining rooms of ``room_size`` at once (128 in flight): joins per second,
    p99 from connect to being taken in, server CPU per join."""
    specs = [(f"storm{room_size}-{i // room_size}", i) for i in range(peers)]
    adapter.prepare(specs)
    async with Crowd(adapter) as crowd:
        meter = Meter(server_pid)
        joined = await crowd.open(specs)
        elapsed, cpu = meter.seconds(), meter.server_cpu()
    return {
        "joined": len(joined),
        "joins_per_s": round(len(joined) / elapsed, 1),
        "join_p99_ms": round(percentile([p.join_ms for p in joined], 0.99), 3),
        "server_cpu_us_per_join": round(1e6 * cpu / max(len(joined), 1), 1),
        "failures": len(crowd.failures),
    }


async def room_fan_out(
    adapter: Adapter,
    server_pid: procstat.Pids,
    *,
    room_size: int = 50,
    events: int = 200,
    window: int = 8,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """``events`` events to every member of one room, at most ``window`` in flight; an event is
    complete when all ``room_size`` members have it. Deliveries per second; p99 from sending an
    event to its last delivery. Each event is sent by its own task, so a hook ``POST`` waiting for
    its ``202`` does not hold back the next event: every server gets ``window`` in flight alike."""
    adapter.prepare([*(specs := [("fan", i) for i in range(room_size)]), ("fan-sender", room_size)])
    completions: list[float] = []
    complete: dict[int, asyncio.Event] = {}
    failures: list[BaseException] = []
    sending = most_sending = 0
    gate, all_delivered, tasks = asyncio.Semaphore(window), asyncio.Event(), []
    async with Crowd(adapter) as crowd:
        members = await crowd.open(specs)
        (sender,) = await crowd.open([("fan-sender", room_size)])

        def delivered(number: int, latency_ms: float) -> None:
            if crowd.inbox.deliveries.get(number) == len(members):
                completions.append(latency_ms)
                complete[number].set()
                if len(completions) == events:
                    all_delivered.set()

        async def send(number: int, event: dict[str, Any]) -> None:
            nonlocal sending, most_sending
            try:
                sending += 1
                most_sending = max(most_sending, sending)
                try:
                    await adapter.fan_out(crowd.session, sender, members, event)
                finally:
                    sending -= 1
                await complete[number].wait()
            except Exception as error:  # the loop sees it at its next event and stops
                failures.append(error)
                all_delivered.set()
            finally:
                gate.release()

        crowd.inbox.on_delivery = delivered
        try:
            meter = Meter(server_pid)
            for number in range(1, events + 1):
                await gate.acquire()
                if failures:
                    break
                complete[number] = asyncio.Event()
                event = {"model": "task", "action": "updated", **bench_payload(number)}
                tasks.append(asyncio.create_task(send(number, event)))
            await asyncio.wait_for(all_delivered.wait(), timeout)
            elapsed, cpu, own_cpu = meter.seconds(), meter.server_cpu(), meter.own_cpu()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout)  # the last sends' answers
            if failures:
                raise RuntimeError(f"{adapter.name}: sending an event failed") from failures[0]
        finally:
            for task in tasks:
                task.cancel()
    total = sum(crowd.inbox.deliveries.values())
    return {
        "room_size": len(members),
        "events": events,
        "window": window,
        "most_sends_in_flight": most_sending,
        "deliveries": total,
        "deliveries_per_s": round(total / elapsed, 1),
        "event_p99_ms": round(percentile(completions, 0.99), 3),
        "server_cpu_us_per_delivery": round(1e6 * cpu / max(total, 1), 2),
        "server_cpu_share": round(cpu / elapsed, 3),
        "generator_cpu_share": round(own_cpu / elapsed, 3),
    }
