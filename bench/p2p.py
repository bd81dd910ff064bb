"""The peer-to-peer path: a drag event tab → tab over an RTCDataChannel, and Chromium → aiortc,
against the same event through our signaling websocket (``relay``); inside tools/in_netns.sh only.

Each measurement is a round trip (the far side echoes the event the way it came) on the sender's
clock; one way is half of it. Sprint ``p2p-tabs`` holds tabs A and B; sprint ``p2p-aiortc`` tab C
and an aiortc peer (the newcomer, so it offers, its candidates inline; the tab trickles).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from bench.servers import SECRET, free_port, require_loopback_only, start_server
from bench.stats import latency_summary, median
from peer_client import loopback
from peer_client.ice import ice_servers_from
from peer_client.mesh import PeerMesh
from peer_client.signaling import SignalingClient, Ticket
from signaling.tickets import mint_ticket
from tools.chromium import CHROMIUM, CHROMIUM_ARGS

PAGE: Final = Path(__file__).with_name("p2p_page.html")
WAIT_MS: Final = 20_000
KEYS: Final = ("p50_ms", "p99_ms", "one_way_p50_ms", "one_way_p99_ms")
Send = Callable[[str, dict[str, Any]], bool]  # (peer, message): False if it could not be sent


async def page_server(port: int) -> web.AppRunner:
    """The test page served on ``port`` of 127.0.0.1 (a page Playwright made up would count as
    another address space, which Chromium keeps from loopback sockets)."""

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE)

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


class EchoPeer:
    """The aiortc peer: the Python client's signaling client and mesh, echoing every drag event
    back the way it came (its data channel, or signaling's ``relay``)."""

    def __init__(self, ws_url: str, ticket: str) -> None:
        async def same_ticket() -> Ticket:
            return Ticket(ws_url, ticket)

        def send(kind: str) -> Send:
            return lambda peer, data: self.signaling.send({"type": kind, "to": peer, "data": data})

        self.signaling = SignalingClient(Ticket(ws_url, ticket), same_ticket, self._on_signaling)
        self.mesh = PeerMesh(
            send_signal=send("signal"),
            send_relay=send("relay"),
            on_message=lambda peer, text: self._echo(json.loads(text), self.mesh.send, peer),
            on_state=lambda peer, old, new: None,
        )

    @staticmethod
    def _echo(drag: dict[str, Any], send: Send, to: str) -> None:
        if not drag.get("echo"):
            send(to, {**drag, "echo": True})

    async def _on_signaling(self, message: dict[str, Any], _frame: str) -> None:
        kind, peer = message.get("type"), str(message.get("from", ""))
        if kind == "welcome":
            self.mesh.ice_servers = ice_servers_from(message.get("iceServers"))
            self.mesh.welcome(entry["peer"] for entry in message["peers"])
        elif kind == "peer-joined":
            self.mesh.joined(str(message["peer"]))
        elif kind == "signal":
            self.mesh.signal(peer, message["data"])
        elif kind == "relay":
            self._echo(message["data"], self.mesh.send_relay, peer)

    async def start(self) -> None:
        loopback.apply()
        await self.signaling.connect()

    async def close(self) -> None:
        await self.signaling.close()
        await self.mesh.close()


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
                context.set_default_timeout(WAIT_MS)

                async def tab(sprint: str, user: str) -> Any:
                    page = await context.new_page()
                    ticket = mint_ticket(SECRET, sprint=sprint, user_id=user, name=user)
                    await page.goto(f"{origin}/?ws={server.ws_url}&ticket={ticket}")
                    await page.wait_for_function("window.bench && window.bench.me()")
                    return page

                async def opened(page: Any) -> str:
                    peer = await page.wait_for_function("window.bench.peerIds()[0]")
                    peer = await peer.json_value()
                    await page.wait_for_function(f"window.bench.open({json.dumps(peer)})")
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
                chromium = f"Chromium {browser.version}"
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
        "chromium": chromium,
        "cases": {
            name: {f"median_{k}": round(median([r[k] for r in results]), 3) for k in KEYS}
            for name, results in measured.items()
        },
    }


def run_p2p(path: Path, *, quick: bool = False) -> dict[str, Any]:
    """Measure and write ``path``; refuses to run outside a loopback-only namespace."""
    require_loopback_only("bench p2p")
    rounds, samples = (1, 50) if quick else (3, 200)
    result = asyncio.run(asyncio.wait_for(measure(rounds, samples), 300))
    result["measured"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return result
