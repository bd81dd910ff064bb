"""What a process costs, read from /proc: memory (PSS), CPU time and write calls. Linux only."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
Pids = int | tuple[int, ...]  # one server process, or all processes of a cluster


def _field(path: str, name: str) -> int:
    """The number after ``name`` in a /proc file of ``key: value`` lines."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    raise ValueError(f"no {name} in {path}")


def pss(pid: int) -> int:
    """The proportional set size in bytes (``Pss`` in ``/proc/<pid>/smaps_rollup``)."""
    return _field(f"/proc/{pid}/smaps_rollup", "Pss:") * 1024


def cpu_seconds(pids: Pids) -> float:
    """User plus system CPU seconds of ``pids`` (all their threads), from ``/proc/<pid>/stat``."""
    if isinstance(pids, tuple):
        return sum(cpu_seconds(pid) for pid in pids)
    text = Path(f"/proc/{pids}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def write_calls(pids: Pids) -> int:
    """``write``/``writev`` calls of ``pids`` on any descriptor (``syscw`` in ``/proc/<pid>/io``):
    libuv sends with these under node and uvloop alike. Not ``send``/``sendmsg``: asyncio's own
    loop sends with those, so an in-process server on it shows none."""
    if isinstance(pids, tuple):
        return sum(write_calls(pid) for pid in pids)
    return _field(f"/proc/{pids}/io", "syscw:")


def self_cpu_seconds() -> float:
    """CPU time of this process (the load generator)."""
    times = os.times()
    return times.user + times.system
