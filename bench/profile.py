"""Profile our server with py-spy under a workload and say where its CPU time goes.

py-spy samples the server process from outside (no change to the server); ``--format raw`` gives
collapsed stacks (``frame;frame;... count``). :func:`summarise` turns them into the top functions by
own time and by inclusive time, and into categories (JSON, logging, metrics, aiohttp frame parsing,
...) with each sample attributed to the category of its innermost matching frame.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Final

# (category, substrings of a frame) — checked from the innermost frame outwards.
CATEGORIES: Final = (
    ("garbage collector", ("gc_collect",)),
    ("JSON decode", ("json/decoder.py", "json/__init__.py:3", "loads (json")),
    ("JSON encode", ("json/encoder.py", "dumps (json")),
    ("logging (formatting and writing log lines)", ("logging/__init__.py", "signaling/logs.py")),
    ("Prometheus metrics (labels(), inc())", ("prometheus_client",)),
    ("JWT / HMAC (tickets, resume tokens)", ("jwt/", "hmac.py", "hashlib")),
    ("aiohttp websocket reader (frame parsing)", ("_websocket/reader", "websocket/reader")),
    (
        "aiohttp websocket writer (framing, masking, send)",
        ("_websocket/writer", "websocket/writer"),
    ),
    ("aiohttp websocket response (receive/send_str)", ("aiohttp/web_ws.py",)),
    (
        "aiohttp HTTP server (upgrade, request handling)",
        ("aiohttp/web_", "aiohttp/http_", "aiohttp/streams"),
    ),
    ("asyncio (tasks, callbacks, transports, selector)", ("asyncio/", "selectors.py")),
    ("signaling: protocol parsing/validation", ("signaling/protocol.py",)),
    ("signaling: rooms", ("signaling/rooms.py",)),
    ("signaling: connection (frames in, sends out)", ("signaling/connection.py",)),
    ("signaling: upgrade and framing", ("signaling/wire.py", "signaling/serving.py")),
    ("signaling: app handlers", ("signaling/app.py",)),
)


# Inclusive time is shown only for these areas: the event loop and interpreter frames under every
# sample would otherwise fill the list at ~100 %.
INCLUSIVE_AREAS: Final = (
    "signaling/",
    "aiohttp/",
    "json/",
    "logging/",
    "jwt/",
    "prometheus_client/",
)


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise FileNotFoundError("py-spy is not installed (it is pinned in requirements-dev.txt)")
    return found


def start_recording(
    pid: int, seconds: float, output: Path, rate: int = 250
) -> subprocess.Popen[bytes]:
    """Start py-spy on ``pid`` for ``seconds``; the caller waits for it (bounded by duration)."""
    command = [py_spy(), "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", str(rate), "--format", "raw", "--output", str(output), "--native"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _frames(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    return stack.split(";"), int(count)


def _short(frame: str) -> str:
    """``func (path/to/module.py:12)`` → ``func (to/module.py)``: one entry per function."""
    name, _, where = frame.partition(" (")
    parts = where.rstrip(")").rsplit(":", 1)[0].split("/")
    return f"{name} ({'/'.join(parts[-2:])})"


def summarise(collapsed: str, top: int = 15) -> dict[str, Any]:
    """Top own-time functions, top inclusive functions and categories, as % of samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        if not line.strip():
            continue
        frames, count = _frames(line)
        total += count
        own[_short(frames[-1])] += count
        for name in {_short(frame) for frame in frames}:
            if any(area in name for area in INCLUSIVE_AREAS):
                inclusive[name] += count
        categories[_category(frames)] += count

    def share(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"name": name, "percent": round(100 * count / max(total, 1), 1)}
            for name, count in counter.most_common(top)
        ]

    return {
        "samples": total,
        "own": share(own),
        "inclusive": share(inclusive),
        "categories": share(categories),
    }


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return name
    return "other (interpreter, C extensions, unlabelled)"
