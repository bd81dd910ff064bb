"""The real signaling server as a subprocess on a free port, for the board's end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 15.0
WAIT = 5.0


@dataclass(frozen=True)
class SignalingProcess:
    base_url: str
    process: subprocess.Popen[bytes]

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    @property
    def hook_url(self) -> str:
        return self.base_url + "/hooks/board"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + "/healthz", timeout=1) as response:
            return bool(json.load(response).get("status") == "ok")
    except OSError:
        return False


@contextmanager
def running_signaling(secret: str) -> Iterator[SignalingProcess]:
    """``python -m signaling`` on 127.0.0.1:<free port> with ``secret``; stopped on exit."""
    port = free_port()
    env = {**os.environ, "WATERCOOLER_SECRET": secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "signaling", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = SignalingProcess(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(server.base_url):
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"signaling exited with {process.returncode}:\n{err}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"signaling did not answer /healthz in {START_TIMEOUT} s")
            time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(WAIT)
        if process.stderr:
            process.stderr.close()


async def receive_json(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT
) -> dict[str, Any]:
    msg = await ws.receive(timeout=timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg.type} {msg.data!r}"
    data = json.loads(msg.data)
    assert isinstance(data, dict)
    return data


async def receive_type(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = WAIT
) -> dict[str, Any]:
    """The next message, which must be of type ``kind``."""
    message = await receive_json(ws, timeout)
    assert message["type"] == kind, f"expected {kind!r}, got {message}"
    return message


async def receive_close(
    ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT
) -> tuple[int | None, str]:
    """Read until the server closes; the close code and reason."""
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type is aiohttp.WSMsgType.CLOSE:
            return msg.data, msg.extra or ""
        if msg.type in (
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.ERROR,
        ):
            return ws.close_code, ""


async def expect_silence(ws: aiohttp.ClientWebSocketResponse, seconds: float = 0.5) -> None:
    """Nothing arrives for ``seconds`` (to show a message was NOT delivered)."""
    try:
        msg = await ws.receive(timeout=seconds)
    except TimeoutError:
        return
    raise AssertionError(f"expected nothing, got {msg.type} {msg.data!r}")
