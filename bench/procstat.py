"""What a process costs, read from /proc: memory (PSS), CPU time and write calls. Linux only."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
Pids = int | tuple[int, ...]  # one server process, or all processes of a cluster


def _field(path: str, name: str) -> int | None:
    """The number after ``name`` in a /proc file of ``key: value`` lines."""
    for line in Path(path).read_text().splitlines():
        if line.startswith(name):
            return int(line.split()[1])
    return None


def pss(pid: int) -> int:
    """The proportional set size in bytes (``Pss`` in ``/proc/<pid>/smaps_rollup``)."""
    return (_field(f"/proc/{pid}/smaps_rollup", "Pss:") or 0) * 1024


def cpu_seconds(pids: Pids) -> float:
    """User plus system CPU seconds of ``pids`` (all their threads), from ``/proc/<pid>/stat``."""
    if isinstance(pids, tuple):
        return sum(cpu_seconds(pid) for pid in pids)
    text = Path(f"/proc/{pids}/stat").read_text()
    # The command name is in parentheses and may hold spaces: split after its closing one.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def write_calls(pids: Pids) -> int:
    """How many ``write``-family system calls ``pids`` made (``syscw`` in ``/proc/<pid>/io``).

    Counts ``write`` and ``writev`` on any descriptor: the servers' sockets (libuv, under node and
    uvloop alike, sends with these) and their log files. ``send``/``sendmsg`` are not counted:
    asyncio's own event loop sends with those, so an in-process server on it shows none.
    """
    if isinstance(pids, tuple):
        return sum(write_calls(pid) for pid in pids)
    count = _field(f"/proc/{pids}/io", "syscw:")
    if count is None:
        raise ValueError(f"no syscw in /proc/{pids}/io")
    return count


def self_cpu_seconds() -> float:
    """CPU time of this process (the load generator)."""
    times = os.times()
    return times.user + times.system
