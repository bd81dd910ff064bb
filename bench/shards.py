"""Idle connections from several generator processes: more sockets than one process may open.

A process holds no more descriptors than its open-file limit, so neither the generator nor one
server may hold 20,000 connections where that limit is 20,000. The clients are split over child
processes of the generator, each opening its share with :class:`~bench.loadgen.Crowd`, against
instances of ours sharing one port (``--reuse-port``, one Redis). Each child mints its tickets and
says ``ready``; on ``go`` it connects its share and answers what it made; on ``count``, how many are
still open; then it closes them and exits. The connect rate is the total over the slowest child's
time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any, Final

from bench import procstat
from bench.adapters import Target, adapter_for
from bench.loadgen import Crowd, idle_specs
from bench.servers import instances_health

REPLY_TIMEOUT: Final = 180.0  # seconds a child may take for one answer (connecting 10k)


def shard_ranges(total: int, shards: int) -> list[tuple[int, int]]:
    """``(first, count)`` for each shard: even counts (whole rooms), together exactly ``total``."""
    rooms, first, ranges = -(-total // 2), 0, []
    for shard in range(shards):
        count = min((rooms // shards + (shard < rooms % shards)) * 2, total - first)
        ranges.append((first, count))
        first += count
    return ranges


async def _child(target: Target, first: int, count: int, pipe: Connection) -> None:
    adapter = adapter_for(target)
    adapter.prepare(specs := idle_specs(first, first + count))
    pipe.send("ready")
    loop = asyncio.get_running_loop()
    async with Crowd(adapter, keepalive=True) as crowd:
        await loop.run_in_executor(None, pipe.recv)  # go
        await crowd.open(specs)
        failures, examples = len(crowd.failures), crowd.failures[:3]
        pipe.send({"connected": len(crowd.peers), "failures": failures, "examples": examples})
        await loop.run_in_executor(None, pipe.recv)  # count
        pipe.send(crowd.open_count())


def child_main(target: Target, first: int, count: int, pipe: Connection) -> None:
    import uvloop

    uvloop.run(_child(target, first, count, pipe))


class Shard:
    """One child process of the generator (spawned: the parent's loop and sockets stay its own)
    and the parent's end of its pipe."""

    def __init__(self, target: Target, first: int, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        args = (target, first, count, child_end)
        self.process = context.Process(target=child_main, args=args, daemon=True)
        self.process.start()
        child_end.close()

    async def answer(self, command: str | None = None) -> Any:
        if command is not None:
            self.pipe.send(command)
        if not await asyncio.to_thread(self.pipe.poll, REPLY_TIMEOUT):
            raise TimeoutError(f"a generator shard did not answer {command} in {REPLY_TIMEOUT} s")
        try:
            return self.pipe.recv()
        except EOFError:
            raise RuntimeError(f"a generator shard exited with {self.process.exitcode}") from None

    def stop(self) -> None:
        """Let it close its sockets and exit (closing our end ends its wait); bounded."""
        self.pipe.close()
        self.process.join(60)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


async def sharded_idle_connections(
    target: Target,
    pids: tuple[int, ...],
    total: int,
    *,
    shards: int = 2,
    hold_seconds: float = 55.0,
    settle_seconds: float = 2.0,
) -> dict[str, Any]:
    """Open ``total`` idle clients from ``shards`` processes, hold them, count the survivors.
    ``pids``: the instances', then the broker's. Memory per connection is the instances' PSS
    growth over the connections made, with and without the broker's (Redis keeps an entry a peer).
    """
    servers, broker = pids[:-1], pids[-1]

    def pss() -> tuple[int, int]:
        return sum(procstat.pss(pid) for pid in servers), procstat.pss(broker)

    base, base_broker = pss()
    children = [Shard(target, first, count) for first, count in shard_ranges(total, shards)]
    try:
        await asyncio.gather(*(child.answer() for child in children))  # tickets minted
        started = time.perf_counter()
        made = await asyncio.gather(*(child.answer("go") for child in children))
        elapsed = time.perf_counter() - started
        connected = sum(reply["connected"] for reply in made)
        await asyncio.sleep(settle_seconds)
        grown, broker_grown = pss()
        health = await asyncio.to_thread(instances_health, target.http_url, len(servers))
        await asyncio.sleep(hold_seconds)
        held = sum(await asyncio.gather(*(child.answer("count") for child in children)))
    finally:
        for child in children:
            child.stop()
    per = max(connected, 1)
    return {
        "level": total,
        "generator_processes": shards,
        "server_processes": len(servers),
        "connected": connected,
        "per_shard_connected": [reply["connected"] for reply in made],
        "per_instance_connections": sorted((h["connections"] for h in health), reverse=True),
        "connect_rate_per_s": round(connected / elapsed, 1),
        "pss_per_conn_bytes": round((grown - base) / per),
        "pss_per_conn_with_broker_bytes": round((grown - base + broker_grown - base_broker) / per),
        "hold_seconds": hold_seconds,
        "held_open": held,
        "failures": sum(reply["failures"] for reply in made),
        "failure_examples": [example for reply in made for example in reply["examples"]][:3],
    }
