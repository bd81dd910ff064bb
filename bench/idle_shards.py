"""Idle connections held by several generator processes: more sockets than one process may open.

On the benchmark machine one process may hold at most 20,000 descriptors (``ulimit -Hn``), so
neither the generator nor a single server can hold 20,000 connections. This workload splits the
clients over ``shards`` child processes of the generator, each opening its share with the same
:class:`~bench.loadgen.Crowd` the other workloads use, and is run against several instances of ours
sharing one port (``--reuse-port``, one Redis), so the server side is split too.

The parent talks to each child over its stdin and stdout, one JSON object per line:

- the child mints its tickets (untimed), then prints ``{"ready": ...}``;
- ``go``: it connects its share and prints ``{"connected": n, "failures": k, "seconds": t}``;
- ``count``: it prints ``{"open": n}``, the sockets still open (a missed heartbeat closes one);
- ``close``: it closes every socket, prints ``{"closed": n}`` and exits.

All shards are told ``go`` together, so the connect rate is the total connected over the slowest
shard's time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, Final

import aiohttp

from bench import procstat
from bench.adapters import Target, adapter_for
from bench.loadgen import Crowd, new_session

REPLY_TIMEOUT: Final = 180.0  # seconds one shard may take for one command (connecting 10k)


def shard_specs(first: int, count: int) -> list[tuple[str, int]]:
    """``(room, index)`` of clients ``first .. first + count - 1``: rooms of two, as ``idle``."""
    return [(f"idle{i // 2}", i) for i in range(first, first + count)]


def shard_ranges(total: int, shards: int) -> list[tuple[int, int]]:
    """``(first, count)`` for each shard: even counts (whole rooms), together exactly ``total``."""
    if shards < 1 or total < 0:
        raise ValueError(f"need shards >= 1 and total >= 0, got {shards} and {total}")
    rooms = -(-total // 2)
    ranges = []
    first = 0
    for shard in range(shards):
        share = rooms // shards + (1 if shard < rooms % shards else 0)
        count = min(share * 2, total - first)
        ranges.append((first, count))
        first += count
    return ranges


# --- the child ------------------------------------------------------------------------------------


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _child(target: Target, first: int, count: int) -> None:
    adapter = adapter_for(target)
    specs = shard_specs(first, count)
    adapter.prepare(specs)
    _say({"ready": count})
    loop = asyncio.get_running_loop()
    async with new_session() as session:
        crowd = Crowd(adapter, session)
        keepalive = asyncio.create_task(crowd.keep_alive())
        try:
            while command := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
                if command == "go":
                    started = time.perf_counter()
                    await crowd.open(specs)
                    _say(
                        {
                            "connected": len(crowd.peers),
                            "failures": len(crowd.failures),
                            "failure_examples": crowd.failures[:3],
                            "seconds": time.perf_counter() - started,
                            "cpu_seconds": procstat.self_cpu_seconds(),
                        }
                    )
                elif command == "count":
                    _say({"open": crowd.open_count()})
                elif command == "close":
                    break
                else:
                    _say({"error": f"unknown command {command!r}"})
        finally:
            keepalive.cancel()
            await asyncio.gather(keepalive, return_exceptions=True)
            await crowd.close()
    _say({"closed": len(crowd.peers)})


def child_main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.idle_shards --ws-url ... --secret ... --first F --count C``."""
    parser = argparse.ArgumentParser(prog="python -m bench.idle_shards")
    parser.add_argument("--server", default="ours")
    parser.add_argument("--ws-url", required=True)
    parser.add_argument("--http-url", default="")
    parser.add_argument("--secret", default="")
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    import uvloop

    target = Target(args.server, args.ws_url, args.http_url, args.secret)
    uvloop.run(_child(target, args.first, args.count))
    return 0


# --- the parent -----------------------------------------------------------------------------------


class Shard:
    """One child process of the generator and its share of the clients."""

    def __init__(self, process: asyncio.subprocess.Process, first: int, count: int) -> None:
        self.process = process
        self.first = first
        self.count = count

    @classmethod
    async def start(cls, target: Target, first: int, count: int) -> Shard:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.idle_shards",
            "--server",
            target.name,
            "--ws-url",
            target.ws_url,
            "--http-url",
            target.http_url,
            "--secret",
            target.secret,
            "--first",
            str(first),
            "--count",
            str(count),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ.copy(),
        )
        return cls(process, first, count)

    async def reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), REPLY_TIMEOUT)
        if not line:
            code = await self.process.wait()
            raise RuntimeError(f"generator shard {self.first}+{self.count} exited with {code}")
        return dict(json.loads(line))

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        return await self.reply()

    async def stop(self) -> None:
        """Close its sockets and let it exit; kill it if it does not within the bound."""
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.ask("close"), 60)
                await asyncio.wait_for(self.process.wait(), 30)
            except (TimeoutError, RuntimeError, ConnectionError, ValueError):
                self.process.kill()
                await self.process.wait()


async def connections_by_instance(http_url: str, instances: int, tries: int = 200) -> list[int]:
    """Each instance's ``connections`` from ``/healthz`` on a shared port: every request is a new
    connection, which the kernel hands to one of the listeners; stop once all have answered."""
    seen: dict[str, int] = {}
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(tries):
            async with session.get(f"{http_url}/healthz") as response:
                health = await response.json()
            seen[str(health["instance"])] = int(health["connections"])
            if len(seen) == instances:
                break
    return sorted(seen.values(), reverse=True)


def _memory(pids: Sequence[int]) -> tuple[int, int]:
    """Summed (RSS, PSS) of ``pids``."""
    readings = [procstat.memory(pid) for pid in pids]
    return sum(m.rss for m in readings), sum(m.pss for m in readings)


async def sharded_idle_connections(
    target: Target,
    server_pids: Sequence[int],
    broker_pids: Sequence[int],
    total: int,
    *,
    shards: int = 2,
    hold_seconds: float = 55.0,
    settle_seconds: float = 2.0,
) -> dict[str, Any]:
    """Open ``total`` idle clients from ``shards`` processes, hold them, count the survivors.

    Memory per connection is the servers' PSS above their idle baseline over the connections
    made, with and without the broker's (Redis keeps a directory entry per peer).
    """
    base_rss, base_pss = _memory(server_pids)
    _, base_broker_pss = _memory(broker_pids)
    server_cpu = procstat.cpu_seconds(tuple(server_pids))
    children = [await Shard.start(target, f, c) for f, c in shard_ranges(total, shards)]
    try:
        await asyncio.gather(*(child.reply() for child in children))  # tickets minted
        started = time.perf_counter()
        connected = await asyncio.gather(*(child.ask("go") for child in children))
        elapsed = time.perf_counter() - started
        server_cpu = procstat.cpu_seconds(tuple(server_pids)) - server_cpu
        made = sum(int(reply["connected"]) for reply in connected)
        await asyncio.sleep(settle_seconds)
        rss, pss = _memory(server_pids)
        _, broker_pss = _memory(broker_pids)
        per_instance = await connections_by_instance(target.http_url, len(server_pids))
        await asyncio.sleep(hold_seconds)
        counts = await asyncio.gather(*(child.ask("count") for child in children))
        held = sum(int(reply["open"]) for reply in counts)
    finally:
        await asyncio.gather(*(child.stop() for child in children), return_exceptions=True)
    per = max(made, 1)
    return {
        "level": total,
        "generator_processes": shards,
        "server_processes": len(server_pids),
        "connected": made,
        "per_shard_connected": [int(reply["connected"]) for reply in connected],
        "per_instance_connections": per_instance,
        "connect_rate_per_s": round(made / elapsed, 1),
        "server_cpu_share": round(server_cpu / elapsed, 3),
        "baseline_pss_bytes": base_pss,
        "rss_bytes": rss,
        "pss_bytes": pss,
        "rss_per_conn_bytes": round((rss - base_rss) / per),
        "pss_per_conn_bytes": round((pss - base_pss) / per),
        "pss_per_conn_with_broker_bytes": round(
            (pss - base_pss + broker_pss - base_broker_pss) / per
        ),
        "hold_seconds": hold_seconds,
        "held_open": held,
        "failures": sum(int(reply["failures"]) for reply in connected),
        "failure_examples": [e for reply in connected for e in reply["failure_examples"]][:3],
    }


if __name__ == "__main__":
    sys.exit(child_main())
