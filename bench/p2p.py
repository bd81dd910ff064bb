"""The peer-to-peer path: a drag event tab → tab over an RTCDataChannel, and Chromium → aiortc,
against the same event sent through our signaling websocket (``relay``).

Runs only inside a loopback-only network namespace (``make -C bench p2p`` uses tools/in_netns.sh),
where Chromium, aiortc and our signaling server reach nothing but 127.0.0.1. Each measurement is a
round trip (the far side echoes the event the way it came), timed by the sender's own clock; one
way is taken as half of it. Sprint ``p2p-tabs`` holds tabs A and B; sprint ``p2p-aiortc`` holds
tab C and an aiortc peer (the newcomer, so it offers, its candidates inline; the tab trickles).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from pathlib import Path
from typing import Any, Final

import aiohttp
from aiohttp import web

from bench.servers import SECRET, free_port, require_loopback_only, start_server
from bench.stats import latency_summary, median
from signaling.tickets import mint_ticket
from tools.chromium import CHROMIUM, CHROMIUM_ARGS

PAGE: Final = Path(__file__).with_name("p2p_page.html")
WAIT: Final = 20.0
KEYS: Final = ("p50_ms", "p99_ms", "one_way_p50_ms", "one_way_p99_ms")


async def page_server(port: int) -> web.AppRunner:
    """A tiny aiohttp app serving the test page on ``port`` of 127.0.0.1 (a page Playwright made
    up would count as another address space, which Chromium keeps from loopback sockets)."""
    app = web.Application()

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE)

    app.router.add_get("/", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


class EchoPeer:
    """An aiortc peer that joins a sprint, offers to the peer there and echoes every drag event."""

    def __init__(self, ws_url: str, ticket: str) -> None:
        self.ws_url, self.ticket = ws_url, ticket
        self._pc: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
        from aiortc.sdp import candidate_from_sdp

        from peer_client import loopback

        loopback.apply()
        self._session = aiohttp.ClientSession()
        ws = await self._session.ws_connect(self.ws_url)
        await ws.send_json({"type": "join", "ticket": self.ticket})
        welcome = await ws.receive_json(timeout=WAIT)
        assert welcome["type"] == "welcome", welcome
        other = welcome["peers"][0]["peer"]
        pc = self._pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        channel = pc.createDataChannel("watercooler")

        @channel.on("message")
        def on_message(text: str | bytes) -> None:
            drag = json.loads(text)
            if not drag.get("echo"):
                channel.send(json.dumps({**drag, "echo": True}))

        await pc.setLocalDescription(await pc.createOffer())
        description = {"type": pc.localDescription.type, "sdp": pc.localDescription.sdp}
        await ws.send_json({"type": "signal", "to": other, "data": {"description": description}})

        async def read() -> None:
            async for msg in ws:
                message = json.loads(msg.data)
                data = message.get("data") or {}
                if message["type"] == "signal" and "description" in data:
                    sdp = data["description"]
                    await pc.setRemoteDescription(RTCSessionDescription(sdp["sdp"], sdp["type"]))
                elif message["type"] == "signal" and data.get("candidate"):
                    line = data["candidate"]["candidate"].removeprefix("candidate:")
                    candidate = candidate_from_sdp(line)
                    candidate.sdpMid = data["candidate"].get("sdpMid")
                    candidate.sdpMLineIndex = data["candidate"].get("sdpMLineIndex")
                    await pc.addIceCandidate(candidate)
                elif message["type"] == "relay" and not data.get("echo"):
                    reply = {**data, "echo": True}
                    await ws.send_json({"type": "relay", "to": message["from"], "data": reply})

        self._reader = asyncio.create_task(read())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._pc is not None:
            await self._pc.close()
        if self._session is not None:
            await self._session.close()


async def _wait_for(page: Any, expression: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := await page.evaluate(expression):
            return value
        await asyncio.sleep(0.05)
    raise TimeoutError(f"page never had {expression} within {timeout} s")


async def measure(rounds: int, samples: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    origin_port = free_port()
    origin = f"http://127.0.0.1:{origin_port}"
    server = start_server("ours", extra_args=("--allowed-origin", origin))
    bot = mint_ticket(SECRET, sprint="p2p-aiortc", user_id="bot", name="bot")
    echo, runner = EchoPeer(server.ws_url, bot), None
    try:
        runner = await page_server(origin_port)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = await browser.new_context()
                await context.grant_permissions(["camera", "microphone"])

                async def tab(sprint: str, user: str) -> Any:
                    page = await context.new_page()
                    ticket = mint_ticket(SECRET, sprint=sprint, user_id=user, name=user)
                    await page.goto(f"{origin}/?ws={server.ws_url}&ticket={ticket}")
                    await _wait_for(page, "window.bench && window.bench.me()")
                    return page

                async def opened(page: Any) -> str:
                    peer = await _wait_for(page, "window.bench.peerIds()[0]")
                    await _wait_for(page, f"window.bench.open({json.dumps(peer)})")
                    return str(peer)

                tab_a = await tab("p2p-tabs", "a")
                await tab("p2p-tabs", "b")  # tab B only echoes
                b_id = await opened(tab_a)
                tab_c = await tab("p2p-aiortc", "c")
                await echo.start()
                bot_id = await opened(tab_c)
                cases = {
                    "chromium-chromium datachannel": (tab_a, "dc", b_id),
                    "chromium-chromium via signaling": (tab_a, "relay", b_id),
                    "chromium-aiortc datachannel": (tab_c, "dc", bot_id),
                    "chromium-aiortc via signaling": (tab_c, "relay", bot_id),
                }
                measured: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
                for _ in range(rounds):
                    for name, (page, path, to) in cases.items():
                        run = "([p, t, n]) => window.bench.measure(p, t, n)"
                        await page.evaluate(run, [path, to, 20])  # warm-up
                        summary = latency_summary(await page.evaluate(run, [path, to, samples]))
                        summary["one_way_p50_ms"] = round(summary["p50_ms"] / 2, 3)
                        summary["one_way_p99_ms"] = round(summary["p99_ms"] / 2, 3)
                        measured[name].append(summary)
            finally:
                await browser.close()
    finally:
        await echo.close()
        if runner is not None:
            await runner.cleanup()
        server.close()
    return {
        "rounds": rounds,
        "samples_per_round": samples,
        "chromium": chromium_version(),
        "cases": {
            name: {f"median_{k}": round(median([r[k] for r in results]), 3) for k in KEYS}
            for name, results in measured.items()
        },
    }


def chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "?"


def run_p2p(path: Path, *, quick: bool = False) -> dict[str, Any]:
    """Measure and write ``path``; refuses to run outside a loopback-only namespace."""
    require_loopback_only("bench p2p")
    rounds, samples = (1, 50) if quick else (3, 200)
    result = asyncio.run(asyncio.wait_for(measure(rounds, samples), 300))
    result["measured"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return result
