"""The load generator against a real in-process signaling server, at tiny scale.

``make bench`` is not part of ``make test``; this keeps the generator's adapter for our server and
its result shapes from rotting silently. No npm, no Chromium: a few seconds.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench import loadgen, procstat, shards
from bench.adapters import Adapter, OursAdapter, Target
from signaling.app import create_app
from signaling.config import Settings
from tests.support.signaling_server import SignalingTestServer

SECRET = "bench-test-secret-" + "x" * 20


@pytest.fixture
async def ours() -> AsyncIterator[Adapter]:
    settings = Settings(
        secret=SECRET, rate=1e5, burst=100_000, relay_rate=1e5, max_peers_per_sprint=100
    )
    server = SignalingTestServer(create_app(settings), host="127.0.0.1")
    await server.start_server()
    try:
        base = f"127.0.0.1:{server.port}"
        yield OursAdapter(Target("ours", f"ws://{base}/ws", f"http://{base}", SECRET))
    finally:
        await server.close()


async def test_directed_relay_delivers_every_message_and_reports_each_step(ours: Adapter) -> None:
    result = await loadgen.directed_relay(
        ours, os.getpid(), rooms=2, rates=(20,), step_seconds=1.0, drain_seconds=2.0
    )
    (step,) = result["steps"]
    assert step["sent"] >= 18
    assert step["received"] == step["sent"]
    assert 0 < step["p50_ms"] <= step["p99_ms"]
    assert step["server_cpu_us_per_msg"] >= 0
    assert step["server_writes_per_msg"] >= 0  # asyncio's send(2) is not counted: see procstat
    assert isinstance(step["sustained"], bool)
    assert result["max_sustained_per_s"] in (0, 20)


async def test_idle_connections_measure_memory_per_connection(ours: Adapter) -> None:
    result = await loadgen.idle_connections(
        ours, os.getpid(), (4, 8), hold_seconds=0.1, settle_seconds=0.05
    )
    assert [step["connected"] for step in result["steps"]] == [4, 8]
    assert result["held_open"] == 8
    assert result["failures"] == 0
    assert all(step["connect_rate_per_s"] > 0 for step in result["steps"])


async def test_join_storm_counts_joins_and_times_welcome(ours: Adapter) -> None:
    result = await loadgen.join_storm(ours, os.getpid(), room_size=3, peers=9)
    assert result["joined"] == 9
    assert result["failures"] == 0
    assert result["joins_per_s"] > 0
    assert result["join_p99_ms"] > 0


async def test_room_fan_out_reaches_every_member_through_the_hook(ours: Adapter) -> None:
    result = await loadgen.room_fan_out(ours, os.getpid(), room_size=5, events=4, window=2)
    assert result["deliveries"] == 20
    assert result["deliveries_per_s"] > 0
    # The hook POSTs overlap: a second event is sent before the first one's 202 is back.
    assert result["most_sends_in_flight"] == 2


async def test_room_fan_out_names_the_server_when_an_event_cannot_be_sent(ours: Adapter) -> None:
    """A refused hook fails the workload at once with its cause, not after the timeout."""
    assert isinstance(ours, OursAdapter)
    # Tickets minted now, with the right secret, are the ones the peers join with; the hook
    # tokens minted during the run use a secret the server does not know.
    ours.prepare([("fan", i) for i in range(3)] + [("fan-sender", 3)])
    ours.target = replace(ours.target, secret="not-the-server-secret-" + "y" * 20)
    with pytest.raises(RuntimeError, match="ours: sending an event failed") as caught:
        await loadgen.room_fan_out(ours, os.getpid(), room_size=3, events=4, window=2, timeout=30)
    assert "hook refused: 401" in str(caught.value.__cause__)


async def test_cluster_relay_goes_across_instances_and_sums_their_cpu(tmp_path: Path) -> None:
    """The bench's cluster: two real instances on a private Redis; every pair is split."""
    from bench.run import run_cluster

    def workload(adapter: Adapter, pids: object) -> Any:
        assert isinstance(pids, tuple)
        assert len(pids) == 3  # two instances and Redis
        return loadgen.directed_relay(
            adapter, pids, rooms=2, rates=(20,), step_seconds=1.0, drain_seconds=2.0
        )

    result = await asyncio.to_thread(run_cluster, workload, 2, logs=tmp_path)
    (step,) = result["steps"]
    assert step["received"] == step["sent"] >= 18
    assert result["instances"] == 2


@pytest.mark.parametrize(
    ("total", "processes", "expected"),
    [
        (20_000, 2, [(0, 10_000), (10_000, 10_000)]),
        (10, 3, [(0, 4), (4, 4), (8, 2)]),
        (5, 2, [(0, 4), (4, 1)]),
        (2, 3, [(0, 2), (2, 0), (2, 0)]),
    ],
)
def test_shards_split_the_clients_into_whole_rooms(
    total: int, processes: int, expected: list[tuple[int, int]]
) -> None:
    ranges = shards.shard_ranges(total, processes)
    assert ranges == expected
    rooms = [
        {room for room, _ in loadgen.idle_specs(first, first + count)} for first, count in ranges
    ]
    assert sum(count for _, count in ranges) == total
    assert all(not (a & b) for i, a in enumerate(rooms) for b in rooms[i + 1 :])


async def test_idle_connections_from_several_processes_to_instances_sharing_a_port(
    tmp_path: Path,
) -> None:
    """The bench's idle-shared workload at tiny scale: two generator processes, two real
    instances of ours on one port (--reuse-port) and a private Redis."""
    from bench.run import run_cluster

    def workload(adapter: Adapter, pids: Any) -> Any:
        return shards.sharded_idle_connections(adapter.target, pids, 40, shards=2, hold_seconds=0.5)

    result = await asyncio.to_thread(run_cluster, workload, 2, shared_port=True, logs=tmp_path)
    assert result["connected"] == result["held_open"] == 40
    assert result["per_shard_connected"] == [20, 20]
    assert sum(result["per_instance_connections"]) == 40
    assert min(result["per_instance_connections"]) > 0  # 40 sockets all on one: 1 in 2**39
    assert result["failures"] == 0
    assert result["server_processes"] == 2


def test_write_calls_count_each_write_of_a_process() -> None:
    read_end, write_end = os.pipe()
    try:
        before = procstat.write_calls(os.getpid())
        for _ in range(25):
            os.write(write_end, b"x")
        assert procstat.write_calls(os.getpid()) - before >= 25
        assert procstat.write_calls((os.getpid(), os.getpid())) == 2 * procstat.write_calls(
            os.getpid()
        )
    finally:
        os.close(read_end)
        os.close(write_end)
