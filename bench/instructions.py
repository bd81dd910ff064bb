"""Instructions per relayed message, counted by callgrind: a figure the host's speed cannot move.

Each server runs under valgrind's callgrind and relays at two low rates for the same time, its
counters zeroed before each step and dumped after; (count at the higher rate - at the lower) /
(messages delivered at the higher - at the lower) is what one more relayed message costs, the
step's fixed work (joins, timers, heartbeats) cancelling out. The kernel's work is not counted.
The ``instructions`` workload of :mod:`bench.run` (``make bench-instructions`` only).
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import uvloop

from bench import loadgen
from bench.adapters import Target, adapter_for
from bench.servers import SECRET, SERVERS_DIR, ServerProcess, start_server

DUMPS: Final = SERVERS_DIR / "callgrind"
_TOTALS = re.compile(rb"^(?:totals|summary): (\d+)", re.MULTILINE)


class CallgrindError(RuntimeError):
    """callgrind could not be controlled or its dump not read."""


@dataclass(frozen=True)
class InstructionPlan:
    """Two low rates, the same step length at both, a few runs on one server process."""

    rates: tuple[float, float] = (100.0, 250.0)
    step_seconds: float = 15.0
    rooms: int = 10
    warm_up_seconds: float = 60.0  # the node servers' JIT settles first
    runs: int = 5
    start_timeout: float = 180.0  # node under callgrind takes tens of seconds to listen

    @classmethod
    def quick(cls) -> InstructionPlan:
        return cls(rates=(20.0, 60.0), step_seconds=2.0, rooms=2, warm_up_seconds=1.0, runs=1)


def read_total(dump: bytes) -> int:
    """The instruction count of one callgrind dump (its ``totals:`` line)."""
    if (found := _TOTALS.search(dump)) is None:
        raise CallgrindError("the callgrind dump has no totals line")
    return int(found.group(1))


def per_message(low: dict[str, float], high: dict[str, float]) -> float:
    """What one more delivered message costs, from two steps of the same length."""
    extra = high["received"] - low["received"]
    if extra <= 0:
        raise CallgrindError(
            f"the higher rate delivered no more messages ({high['received']:.0f} against "
            f"{low['received']:.0f}): no per-message figure"
        )
    return (high["instructions"] - low["instructions"]) / extra


def valgrind_version() -> str:
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or "?"


def _control(option: str, pid: int) -> None:
    command = ["callgrind_control", option, str(pid)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise CallgrindError(f"callgrind_control {option} {pid} failed: {done.stdout}{done.stderr}")


def _dump(pid: int, dumps: Path, timeout: float = 120.0) -> int:
    """Ask callgrind for a dump of the counts since the last zero and read its total."""
    before = set(dumps.iterdir())
    _control("--dump", pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in set(dumps.iterdir()) - before:
            data = path.read_bytes()
            if _TOTALS.search(data):
                path.unlink()  # about 1 MB per dump; only its total is kept
                return read_total(data)
        time.sleep(0.2)
    raise CallgrindError(f"no callgrind dump from process {pid} in {dumps} within {timeout} s")


def _relay(server: ServerProcess, plan: InstructionPlan, rate: float, seconds: float) -> Any:
    """One relay step (slow under callgrind: every message may arrive)."""
    adapter = adapter_for(Target(server.name, server.ws_url, server.http_url, SECRET))
    relay = loadgen.directed_relay(
        adapter, server.pid, rooms=plan.rooms, rates=[rate], step_seconds=seconds,
        drain_seconds=10.0, stop_after_failures=9,
    )  # fmt: skip
    return uvloop.run(relay)["steps"][0]


def count_instructions(name: str, plan: InstructionPlan, dumps: Path = DUMPS) -> dict[str, Any]:
    """One process of server ``name`` under callgrind: warmed up, then ``plan.runs`` runs, each a
    step at both rates. Per run: instructions per message, and per message of the whole higher
    step; ``complete`` when every message of both steps arrived."""
    dumps = dumps / name
    dumps.mkdir(parents=True, exist_ok=True)
    valgrind = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={dumps}/callgrind.out.%p")
    runs: list[dict[str, Any]] = []
    with start_server(name, prefix=valgrind, timeout=plan.start_timeout) as server:
        _relay(server, plan, plan.rates[1], plan.warm_up_seconds)  # JIT and caches settle
        for _ in range(plan.runs):
            steps = []
            for rate in plan.rates:  # each step bracketed by a zero and a dump of the counters
                _control("--zero", server.pid)
                step = _relay(server, plan, rate, plan.step_seconds)
                steps.append(step | {"instructions": _dump(server.pid, dumps)})
            low, high = steps
            whole = round(high["instructions"] / max(high["received"], 1))
            complete = all(s["received"] == s["sent"] for s in steps)
            per = round(per_message(low, high))
            runs.append(
                {
                    "complete": complete,
                    "instructions_per_message": per,
                    "whole_step_per_message": whole,
                }
            )
    for leftover in dumps.glob(f"callgrind.out.{server.pid}*"):  # the dump made at exit
        leftover.unlink()
    return {"runs": runs}
