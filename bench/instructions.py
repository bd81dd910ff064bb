"""Instructions per relayed message, counted by callgrind: a figure the host's speed cannot move.

CPU time per message swings with this shared host's speed (by up to 2x within one session), which
hides differences of 5-20 % between servers at low rates, where each message is a wake-up of its
own. valgrind's callgrind counts the user-space instructions a process executes, the same count for
the same work whatever else the machine is doing. ``python -m bench instructions`` runs each
server under callgrind and relays at two low rates for the same time, zeroing the counters before
each step and dumping them after it. Then

    instructions per message = (count at the higher rate - count at the lower)
                               / (messages delivered at the higher rate - at the lower)

is what one more relayed message costs: the step's fixed work (the peers' joins and leaves, timers,
heartbeats) is the same at both rates and cancels out. The step's whole count divided by its
messages, fixed work included, is recorded too.

What is not counted: the kernel's work (every server makes one ``read`` and one ``write`` system
call per message at these rates, measured with ``strace -c``), and time lost to cache misses. The
rates are low because a server under callgrind runs about 50 times slower.
"""

from __future__ import annotations

import re
import resource
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, Final

from bench import loadgen
from bench.adapters import adapter_for
from bench.run import RESULTS, machine_facts, run_generator, save, target_of
from bench.servers import SERVER_NAMES, SERVERS_DIR, ServerProcess, start_server
from bench.stats import median

INSTRUCTIONS_RESULTS: Final = RESULTS.with_name("instructions.json")
DUMPS: Final = SERVERS_DIR / "callgrind"
_TOTALS = re.compile(rb"^(?:totals|summary): (\d+)", re.MULTILINE)


class CallgrindError(RuntimeError):
    """callgrind could not be controlled or its dump not read."""


@dataclass(frozen=True)
class InstructionPlan:
    """Two low rates, the same step length at both, a few runs on one server process each."""

    rates: tuple[float, float] = (100.0, 250.0)
    step_seconds: float = 15.0
    rooms: int = 10
    # The node servers' JIT settles first (after 20 s their whole-step counts still fell from run
    # to run), and every server's caches.
    warm_up_seconds: float = 60.0
    runs: int = 5
    servers: tuple[str, ...] = SERVER_NAMES
    start_timeout: float = 180.0  # node under callgrind takes tens of seconds to listen

    @classmethod
    def quick(cls) -> InstructionPlan:
        return cls(rates=(20.0, 60.0), step_seconds=2.0, rooms=2, warm_up_seconds=1.0, runs=1)


def valgrind_prefix(dumps: Path) -> tuple[str, ...]:
    """The command prefix that runs a server under callgrind, its dumps in ``dumps``."""
    return ("valgrind", "--tool=callgrind", f"--callgrind-out-file={dumps}/callgrind.out.%p")


def read_total(dump: bytes) -> int:
    """The instruction count of one callgrind dump (its ``totals:`` line)."""
    found = _TOTALS.search(dump)
    if found is None:
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


def _callgrind_control(option: str, pid: int) -> None:
    done = subprocess.run(
        ["callgrind_control", option, str(pid)], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise CallgrindError(f"callgrind_control {option} {pid} failed: {done.stdout}{done.stderr}")


def _dump(pid: int, dumps: Path, timeout: float = 120.0) -> int:
    """Ask callgrind for a dump of the counts since the last zero and read its total."""
    before = set(dumps.iterdir())
    _callgrind_control("--dump", pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in set(dumps.iterdir()) - before:
            data = path.read_bytes()
            if _TOTALS.search(data):
                path.unlink()  # a dump is about 1 MB per server; only its total is kept
                return read_total(data)
        time.sleep(0.2)
    raise CallgrindError(f"no callgrind dump from process {pid} in {dumps} within {timeout} s")


def _relay(
    server: ServerProcess, plan: InstructionPlan, rate: float, seconds: float
) -> dict[str, Any]:
    """One relay step against ``server`` (slow under callgrind: every message may arrive)."""
    return run_generator(
        loadgen.directed_relay(
            adapter_for(target_of(server)),
            server.pid,
            rooms=plan.rooms,
            rates=[rate],
            step_seconds=seconds,
            drain_seconds=10.0,
            stop_after_failures=9,
        )
    )


def _step(server: ServerProcess, plan: InstructionPlan, rate: float, dumps: Path) -> dict[str, Any]:
    """One relay step bracketed by a zero and a dump of the server's counters."""
    _callgrind_control("--zero", server.pid)
    result = _relay(server, plan, rate, plan.step_seconds)
    instructions = _dump(server.pid, dumps)
    step = result["steps"][0]
    return {
        "rate": rate,
        "sent": step["sent"],
        "received": step["received"],
        "instructions": instructions,
        "instructions_per_message_whole_step": round(instructions / max(step["received"], 1)),
    }


def measure_server(name: str, plan: InstructionPlan, dumps: Path = DUMPS) -> list[dict[str, Any]]:
    """``plan.runs`` runs on one server process under callgrind, each a step at both rates."""
    dumps = dumps / name
    dumps.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    with start_server(name, prefix=valgrind_prefix(dumps), timeout=plan.start_timeout) as server:
        _relay(server, plan, plan.rates[1], plan.warm_up_seconds)  # JIT and caches settle
        for _ in range(plan.runs):
            low, high = (_step(server, plan, rate, dumps) for rate in plan.rates)
            complete = all(s["received"] == s["sent"] for s in (low, high))
            runs.append(
                {
                    "low": low,
                    "high": high,
                    "complete": complete,
                    "instructions_per_message": round(per_message(low, high)),
                }
            )
    for leftover in dumps.glob(f"callgrind.out.{server.pid}*"):  # the dump made at exit
        leftover.unlink()
    return runs


def summary(runs: list[dict[str, Any]]) -> float:
    """Median instructions per message over the runs where every message arrived."""
    return median([r["instructions_per_message"] for r in runs if r.get("complete")])


def _measured_or_error(
    label: str, measure: Callable[[], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The runs, or one entry naming the error (CallgrindError, a server that did not start):
    one server's failure must not lose the others'."""
    try:
        return measure()
    except (RuntimeError, OSError) as error:
        print(f"[bench] instructions: {label} failed: {error}", flush=True)
        return [{"error": f"{type(error).__name__}: {error}"}]


def valgrind_version() -> str:
    done = subprocess.run(["valgrind", "--version"], capture_output=True, text=True)
    return done.stdout.strip() or "?"


def run_instructions(
    plan: InstructionPlan, path: Path = INSTRUCTIONS_RESULTS, dumps: Path = DUMPS
) -> dict[str, Any]:
    """Measure every server in ``plan`` and write the results JSON (saved after each server)."""
    results: dict[str, Any] = {
        "plan": asdict(plan),
        "machine": {
            **machine_facts(resource.getrlimit(resource.RLIMIT_NOFILE)[0]),
            "valgrind": valgrind_version(),
        },
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "servers": {},
    }
    for name in plan.servers:
        print(f"[bench] instructions: {name} under callgrind", flush=True)
        results["servers"][name] = _measured_or_error(
            name, partial(measure_server, name, plan, dumps)
        )
        save(results, path)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    save(results, path)
    return results
