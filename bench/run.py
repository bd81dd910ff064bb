"""Run every workload against every server, several times, and write the results JSON.

Runs are interleaved (run 1 of each server, then run 2, ...) so a change in the machine's load
(other engineers test on it) hits every server alike. Each workload run gets a freshly started
server. Everything is bounded: fixed counts, fixed step lengths, a timeout around each run.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
import uvloop

from bench import idle_shards, loadgen, procstat
from bench.adapters import Adapter, Target, adapter_for
from bench.servers import (
    SECRET,
    SERVER_NAMES,
    SERVERS_DIR,
    ServerProcess,
    pin_generator,
    server_core,
    start_cluster,
    start_server,
)

RESULTS: Final = Path(__file__).resolve().parent / "results" / "results.json"
RUN_TIMEOUT: Final = 240.0


@dataclass(frozen=True)
class Plan:
    """How big and how long: ``full`` for ``make bench``, ``quick`` to try the machinery."""

    runs: int = 3
    idle_levels: tuple[int, ...] = (1000, 5000, 10000, 20000)
    # Longer than 2.5 heartbeat intervals (2.5 x 20 s): the bound within which our server drops a
    # socket that stops answering pings, so every socket held has answered them.
    idle_hold_ours: float = 55.0
    idle_hold_others: float = 5.0
    relay_rooms: int = 50
    # Finer steps where the servers' ceilings have lain on the benchmark machine (24-90k msg/s:
    # its speed varies from session to session by 2x), up to past where the generator's core runs
    # out (beyond it a step says nothing about the server; the report marks such steps).
    relay_rates: tuple[float, ...] = (
        1000,
        2000,
        4000,
        8000,
        12000,
        16000,
        20000,
        24000,
        28000,
        32000,
        36000,
        40000,
        48000,
        56000,
        64000,
        72000,
        80000,
        88000,
        96000,
        112000,
        128000,
    )
    relay_step_seconds: float = 3.0
    storm_sizes: tuple[int, ...] = (2, 10, 50)
    storm_peers: int = 1000
    fan_out_room: int = 50
    # 2,000 events of 50 deliveries: a second or more per run, so the CPU figures (read in 10 ms
    # clock ticks from /proc) are good to about 1 %; 200 events lasted 0.1 s here.
    fan_out_events: int = 2000
    servers: tuple[str, ...] = SERVER_NAMES
    workloads: tuple[str, ...] = ("idle", "relay", "storm", "fanout", "cluster", "idle-shared")
    cluster_instances: int = 2
    # More connections than one process may hold here (fd hard limit 20,000): ours as two
    # instances sharing one port (--reuse-port, one Redis), the generator as two processes.
    shared_idle_level: int = 20000
    shared_idle_instances: int = 2
    shared_idle_shards: int = 2

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            runs=1,
            idle_levels=(200, 500),
            idle_hold_ours=1.0,
            idle_hold_others=1.0,
            relay_rooms=10,
            relay_rates=(500, 2000),
            relay_step_seconds=1.0,
            storm_sizes=(2, 10),
            storm_peers=100,
            fan_out_events=20,
            shared_idle_level=400,
        )


def fd_limit_levels(levels: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Raise our soft fd limit to the hard one; cap the idle levels to what fits (with headroom).

    Every connection costs one descriptor in the generator and one in the server, and both inherit
    this process's limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    cap = soft - 100
    return tuple(min(level, cap) for level in levels), soft


def _command_output(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def _package_version(name: str) -> str:
    path = SERVERS_DIR / "node_modules" / name / "package.json"
    try:
        return str(json.loads(path.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "?"


def machine_facts(fd_limit: int) -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    return {
        "nproc": os.cpu_count(),
        "cpu_model": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "?",
        ),
        "memory_gib": round(total_kb / 2**20, 1),
        "kernel": platform.release(),
        "fd_limit": fd_limit,
        "revision": _command_output("git", "rev-parse", "--short", "HEAD"),
        "signaling_changes_uncommitted": bool(
            _command_output("git", "status", "--porcelain", "--", "signaling")
        ),
        "versions": {
            "python": platform.python_version(),
            "aiohttp": aiohttp.__version__,
            "node": _command_output("node", "--version"),
            "y-webrtc": _package_version("y-webrtc"),
            "peer": _package_version("peer"),
            "ws (node)": _package_version("ws"),
        },
    }


Workload = Callable[[Adapter, Any], Coroutine[Any, Any, dict[str, Any]]]


def workloads(
    plan: Plan, levels: tuple[int, ...]
) -> dict[str, Callable[[str], list[tuple[str, Workload]]]]:
    """For each workload name: the (label, coroutine factory) pairs to run against one server."""

    def idle(server: str) -> list[tuple[str, Workload]]:
        hold = plan.idle_hold_ours if server == "ours" else plan.idle_hold_others
        return [
            ("idle", lambda a, pid: loadgen.idle_connections(a, pid, levels, hold_seconds=hold))
        ]

    def relay(server: str) -> list[tuple[str, Workload]]:
        return [
            (
                "relay",
                lambda a, pid: loadgen.directed_relay(
                    a,
                    pid,
                    rooms=plan.relay_rooms,
                    rates=plan.relay_rates,
                    step_seconds=plan.relay_step_seconds,
                    stop_after_failures=2,
                ),
            )
        ]

    def storm(server: str) -> list[tuple[str, Workload]]:
        def one(size: int) -> Workload:
            return lambda a, pid: loadgen.join_storm(a, pid, room_size=size, peers=plan.storm_peers)

        return [(f"storm{size}", one(size)) for size in plan.storm_sizes]

    def fanout(server: str) -> list[tuple[str, Workload]]:
        return [
            (
                "fanout",
                lambda a, pid: loadgen.room_fan_out(
                    a, pid, room_size=plan.fan_out_room, events=plan.fan_out_events
                ),
            )
        ]

    def cluster(server: str) -> list[tuple[str, Workload]]:
        if server != "ours":  # neither peer server runs as several instances
            return []
        return [("cluster", relay("ours")[0][1])]

    def idle_shared(server: str) -> list[tuple[str, Workload]]:
        if server != "ours":  # neither peer server runs as several processes
            return []
        return [
            (
                "idle-shared",
                lambda a, pids: idle_shards.sharded_idle_connections(
                    a.target,
                    pids[:-1],  # the instances; the last pid is Redis (Cluster.pids)
                    pids[-1:],
                    plan.shared_idle_level,
                    shards=plan.shared_idle_shards,
                    hold_seconds=plan.idle_hold_ours,
                ),
            )
        ]

    return {
        "idle": idle,
        "relay": relay,
        "storm": storm,
        "fanout": fanout,
        "cluster": cluster,
        "idle-shared": idle_shared,
    }


def run_one(server_name: str, workload: Workload) -> dict[str, Any]:
    """Start a fresh server, run one workload against it (bounded), stop the server."""
    with start_server(server_name) as server:
        result = _measure(workload, target_of(server), server.pid)
        result["server_pinned_core"] = server.pinned_core
    return result


def run_cluster(workload: Workload, instances: int, *, shared_port: bool = False) -> dict[str, Any]:
    """Like :func:`run_one` on a fresh Redis-backed cluster; CPU is summed over all its
    processes. With separate ports each pair's two peers are on different instances; with a
    shared port (``--reuse-port``) the kernel places every connection."""
    with start_cluster(instances, shared_port=shared_port) as cluster:
        first = cluster.instances[0]
        urls = () if shared_port else tuple(instance.ws_url for instance in cluster.instances)
        target = Target("ours", first.ws_url, first.http_url, SECRET, ws_urls=urls)
        result = _measure(workload, target, cluster.pids)
        result["instances"] = instances
        result["server_pinned_core"] = first.pinned_core
    return result


def _measure(workload: Workload, target: Target, pids: procstat.Pids) -> dict[str, Any]:
    before = procstat.load_average()
    started = time.time()
    result = run_generator(asyncio.wait_for(workload(adapter_for(target), pids), RUN_TIMEOUT))
    result["load_average_before"] = [round(x, 2) for x in before]
    result["load_average_after"] = [round(x, 2) for x in procstat.load_average()]
    result["wall_seconds"] = round(time.time() - started, 1)
    return result


def run_generator(work: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run the load generator on uvloop: its C transports cost the generator about a third less
    CPU per message than asyncio's own, and every server is driven the same way."""
    return uvloop.run(work)


def target_of(server: ServerProcess) -> Target:
    return Target(server.name, server.ws_url, server.http_url, SECRET)


def save(results: dict[str, Any], path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")


def run_all(plan: Plan, path: Path = RESULTS) -> dict[str, Any]:
    # SIGTERM unwinds like Ctrl-C, so every started server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    levels, fd_limit = fd_limit_levels(plan.idle_levels)
    results: dict[str, Any] = {
        "plan": asdict(plan) | {"idle_levels_used": list(levels)},
        "machine": machine_facts(fd_limit),
        "cpu_sharing": (
            f"server pinned to core {server_core()} with taskset; "
            f"load generator (one asyncio process) pinned to core(s) {pin_generator()}"
        ),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_start": [round(x, 2) for x in procstat.load_average()],
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "workloads": {},
    }
    builders = workloads(plan, levels)
    for run in range(plan.runs):
        for name in plan.workloads:
            for server in plan.servers:
                for label, workload in builders[name](server):
                    print(f"[bench] run {run + 1}/{plan.runs} {label} {server}", flush=True)
                    try:
                        if name == "cluster":
                            result = run_cluster(workload, plan.cluster_instances)
                        elif name == "idle-shared":
                            result = run_cluster(
                                workload, plan.shared_idle_instances, shared_port=True
                            )
                        else:
                            result = run_one(server, workload)
                    except Exception as exc:  # one failed run must not lose the others
                        result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                        print(f"[bench]   failed: {result['error']}", file=sys.stderr, flush=True)
                    results["workloads"].setdefault(label, {}).setdefault(server, []).append(result)
                    save(results, path)
    results["load_average_end"] = [round(x, 2) for x in procstat.load_average()]
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    save(results, path)
    return results
