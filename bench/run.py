"""Run every workload against every server, several times, and write the results JSON.

Runs are interleaved (run 1 of each server, then run 2, ...) so a change in the machine's load
hits every server alike, and each run gets a freshly started server. Everything is bounded: fixed
counts, fixed step lengths, a timeout around each run. With a baseline revision, ``ours-before``
(our server as it was then) is one more server in the same runs.
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
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final

import aiohttp
import uvloop

from bench import loadgen, procstat, servers, shards
from bench.adapters import Adapter, Target, adapter_for
from bench.instructions import InstructionPlan, count_instructions, valgrind_version
from bench.servers import BASELINE, LOG_DIR, SECRET, is_ours

RESULTS: Final = servers.ROOT / "bench" / "results" / "results.json"  # ignored by git
RUN_TIMEOUT: Final = 240.0

Workload = Callable[[Adapter, Any], Coroutine[Any, Any, dict[str, Any]]]
Job = Callable[[], dict[str, Any]]  # one run of a workload on a freshly started server


@dataclass(frozen=True)
class Plan:
    """How big and how long: the defaults for ``make bench``, :meth:`quick` to try the machinery."""

    runs: int = 3
    idle_levels: tuple[int, ...] = (1000, 5000, 10000, 20000)
    # Longer than 2.5 heartbeat intervals (2.5 x 20 s): the bound within which our server drops a
    # socket that stops answering pings, so every socket held has answered them.
    idle_hold_ours: float = 55.0
    idle_hold_others: float = 5.0
    relay_rooms: int = 50
    # Finer steps where the servers' ceilings have lain on the benchmark machine, up to past where
    # the generator's core runs out.
    relay_rates: tuple[float, ...] = (
        *(1000, 2000, 4000),
        *range(8000, 40001, 4000),
        *range(48000, 96001, 8000),
        *(112000, 128000),
    )
    relay_step_seconds: float = 3.0
    storm_sizes: tuple[int, ...] = (2, 10, 50)
    # Enough joins that the server's CPU for them (read in 10 ms clock ticks) is good to about 1 %.
    storm_peers: int = 10000
    fan_out_room: int = 50
    fan_out_events: int = 2000  # a second or more per run, for the same reason
    cluster_instances: int = 2
    # More connections than one process may hold here: ours as two instances sharing one port
    # (--reuse-port, one Redis), the generator as two processes.
    shared_idle_level: int = 20000
    shared_idle_instances: int = 2
    shared_idle_shards: int = 2
    instructions: InstructionPlan = field(default_factory=InstructionPlan)
    workloads: tuple[str, ...] = ("idle", "relay", "storm", "fanout", "cluster", "idle-shared")
    servers: tuple[str, ...] = servers.SERVER_NAMES
    baseline: str | None = None  # a git revision: ours-before runs from its signaling/

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            runs=1, idle_levels=(200, 500), idle_hold_ours=1.0, idle_hold_others=1.0,
            relay_rooms=10, relay_rates=(500, 2000), relay_step_seconds=1.0, storm_sizes=(2, 10),
            storm_peers=200, fan_out_events=20, shared_idle_level=400,
            instructions=InstructionPlan.quick(),
        )  # fmt: skip


def machine_facts(fd_limit: int) -> dict[str, Any]:
    def output(*command: str) -> str:
        try:
            return subprocess.run(
                command, capture_output=True, text=True, timeout=20
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    def package(name: str) -> str:
        try:
            path = servers.SERVERS_DIR / "node_modules" / name / "package.json"
            return str(json.loads(path.read_text())["version"])
        except (OSError, ValueError, KeyError):
            return "?"

    meminfo = Path("/proc/meminfo").read_text().split()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": next((x.split(":", 1)[1].strip() for x in cpuinfo if "model name" in x), "?"),
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1),
        "kernel": platform.release(),
        "fd_limit": fd_limit,
        "revision": servers.revision(),
        "signaling_changes_uncommitted": bool(output("git", "status", "--porcelain", "signaling")),
        "versions": {
            "python": platform.python_version(),
            "aiohttp": aiohttp.__version__,
            "node": output("node", "--version"),
            **{name: package(name) for name in ("y-webrtc", "peer")},
            "ws (node)": package("ws"),
        },
    }


def jobs(plan: Plan, levels: tuple[int, ...], workload: str, server: str) -> list[tuple[str, Job]]:
    """The (label, job) pairs of ``workload`` to run against ``server``."""
    relay = partial(
        loadgen.directed_relay, rooms=plan.relay_rooms, rates=plan.relay_rates,
        step_seconds=plan.relay_step_seconds, stop_after_failures=2,
    )  # fmt: skip
    if workload == "idle":
        hold = plan.idle_hold_ours if is_ours(server) else plan.idle_hold_others
        idle = partial(loadgen.idle_connections, levels=levels, hold_seconds=hold)
        return [("idle", partial(run_one, server, idle))]
    if workload == "relay":
        return [("relay", partial(run_one, server, relay))]
    if workload == "storm":
        storm = partial(loadgen.join_storm, peers=plan.storm_peers)
        return [
            (f"storm{size}", partial(run_one, server, partial(storm, room_size=size)))
            for size in plan.storm_sizes
        ]
    if workload == "fanout":
        fan = partial(loadgen.room_fan_out, room_size=plan.fan_out_room, events=plan.fan_out_events)
        return [("fanout", partial(run_one, server, fan))]
    if workload == "instructions":  # one server process under callgrind, however many runs
        return [("instructions", partial(count_instructions, server, plan.instructions))]
    if server != "ours":  # neither peer server runs as several processes; the baseline need not
        return []
    if workload == "cluster":
        return [("cluster", partial(run_cluster, relay, plan.cluster_instances))]
    if workload == "idle-shared":

        def shared(adapter: Adapter, pids: Any) -> Coroutine[Any, Any, dict[str, Any]]:
            return shards.sharded_idle_connections(
                adapter.target, pids, plan.shared_idle_level,
                shards=plan.shared_idle_shards, hold_seconds=plan.idle_hold_ours,
            )  # fmt: skip

        instances = plan.shared_idle_instances
        return [("idle-shared", partial(run_cluster, shared, instances, shared_port=True))]
    raise ValueError(f"unknown workload {workload!r}")


def _measure(workload: Workload, target: Target, pids: procstat.Pids) -> dict[str, Any]:
    # uvloop: its C transports cost the generator about a third less CPU per message than
    # asyncio's own, and every server is driven the same way.
    return uvloop.run(asyncio.wait_for(workload(adapter_for(target), pids), RUN_TIMEOUT))


def run_one(server_name: str, workload: Workload) -> dict[str, Any]:
    """Start a fresh server, run one workload against it (bounded), stop the server."""
    with servers.start_server(server_name) as server:
        target = Target(server.name, server.ws_url, server.http_url, SECRET)
        return _measure(workload, target, server.pid)


def run_cluster(
    workload: Workload, instances: int, *, shared_port: bool = False, logs: Path = LOG_DIR
) -> dict[str, Any]:
    """Like :func:`run_one` on a fresh Redis-backed cluster; CPU is summed over all its
    processes. With separate ports each pair's two peers are on different instances; with a
    shared port (``--reuse-port``) the kernel places every connection."""
    with servers.start_cluster(instances, shared_port=shared_port, logs=logs) as (started, pids):
        urls = () if shared_port else tuple(server.ws_url for server in started)
        first = started[0]
        target = Target("ours", first.ws_url, first.http_url, SECRET, ws_urls=urls)
        return _measure(workload, target, pids) | {"instances": instances}


def run_all(plan: Plan, path: Path = RESULTS) -> dict[str, Any]:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds: started servers stop
    # Each connection costs one descriptor in the generator and one in the server (both inherit
    # this limit): raise it to the hard one and cap the idle levels to what fits.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    levels = tuple(min(level, hard - 100) for level in plan.idle_levels)

    def load() -> list[float]:
        return [round(x, 2) for x in os.getloadavg()]

    def save() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=1) + "\n")

    results: dict[str, Any] = {
        "plan": asdict(plan),
        "machine": machine_facts(hard),
        "cpu_sharing": (
            f"server pinned to core {servers.server_core()} with taskset; "
            f"load generator (one asyncio process) pinned to core(s) {servers.pin_generator()}"
        ),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_start": load(),
        "nice": os.getpriority(os.PRIO_PROCESS, 0),
        "workloads": {},
    }
    if "instructions" in plan.workloads:
        results["machine"]["valgrind"] = valgrind_version()
    names = plan.servers
    if plan.baseline:
        results["baseline"] = servers.export_baseline(plan.baseline)
        names = (*names, BASELINE)
    for run in range(plan.runs):
        for workload in plan.workloads:
            for server in names:
                for label, job in jobs(plan, levels, workload, server):
                    print(f"[bench] run {run + 1}/{plan.runs} {label} {server}", flush=True)
                    try:
                        result = job()
                    except Exception as exc:  # one failed run must not lose the others
                        result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                        print(f"[bench]   failed: {result['error']}", file=sys.stderr, flush=True)
                    results["workloads"].setdefault(label, {}).setdefault(server, []).append(result)
                    save()
    results["load_average_end"] = load()
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    save()
    return results
