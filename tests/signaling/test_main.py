"""``python -m signaling`` as a process: start-up rules, shutdown, and what its log says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from signaling.tickets import mint_hook_token, mint_ticket
from tests.signaling.conftest import receive_close_with_reason, receive_type
from tests.support.processes import ROOT, SignalingProcess
from tests.support.websocket import client_session

SECRET = "process-secret-" + "z" * 20
SDP = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\n"
)


def test_refuses_to_start_without_a_secret() -> None:
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "signaling", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "WATERCOOLER_SECRET is not set" in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_shutdown_notifies_peers_and_exits_zero(sig: int) -> None:
    server = SignalingProcess(SECRET).wait_ready()
    try:
        async with client_session() as session:
            peers = []
            for user in ("1", "2"):
                ws = await session.ws_connect(server.ws_url)
                await ws.send_json(
                    {
                        "type": "join",
                        "ticket": mint_ticket(SECRET, sprint="5", user_id=user, name="N"),
                    }
                )
                await receive_type(ws, "welcome")
                peers.append(ws)
            await receive_type(peers[0], "peer-joined")
            server.process.send_signal(sig)
            for ws in peers:
                code, reason = await receive_close_with_reason(ws, timeout=10)
                assert code == 1001
                assert reason == "server shutting down"
        assert server.process.wait(15) == 0
        log = server.output()
        assert "shutdown connections=2 rooms=1 peers=2" in log
    finally:
        server.kill()


async def test_log_tells_the_story_without_secrets_or_sdp() -> None:
    server = SignalingProcess(SECRET).wait_ready()
    try:
        async with client_session() as session:
            ticket_a = mint_ticket(SECRET, sprint="5", user_id="1", name="Ann Lee")
            a = await session.ws_connect(server.ws_url)
            await a.send_json({"type": "join", "ticket": ticket_a})
            wa = await receive_type(a, "welcome")
            b = await session.ws_connect(server.ws_url)
            await b.send_json(
                {"type": "join", "ticket": mint_ticket(SECRET, sprint="5", user_id="2", name="Bo")}
            )
            wb = await receive_type(b, "welcome")
            await b.send_json(
                {
                    "type": "signal",
                    "to": wa["peer"],
                    "data": {"description": {"type": "offer", "sdp": SDP}},
                }
            )
            await receive_type(a, "peer-joined")
            await receive_type(a, "signal")
            await b.send_json({"type": "signal", "to": "ghost", "data": {}})
            await receive_type(b, "error")
            bad = await session.ws_connect(server.ws_url)
            await bad.send_json({"type": "join", "ticket": "garbage"})
            await receive_close_with_reason(bad)
            body = json.dumps(
                {"sprint": "5", "event": {"model": "task", "action": "updated"}}
            ).encode()
            async with session.post(
                f"{server.http_url}/hooks/board",
                data=body,
                headers={"Authorization": f"Bearer {mint_hook_token(SECRET, body)}"},
            ) as response:
                assert response.status == 202
            await b.close()
            await receive_type(a, "event")
            await receive_type(a, "peer-left")
    finally:
        server.stop()
    log = server.output()
    lines = log.splitlines()

    def line_with(*words: str) -> str:
        found = [line for line in lines if all(word in line for word in words)]
        assert found, f"no log line with {words} in:\n{log}"
        return found[0]

    assert "addr=127.0.0.1" in line_with(
        " join ", "sprint=5", f"peer={wa['peer']}", "user=1", 'name="Ann Lee"'
    )
    offer = line_with(" signal ", f"from={wb['peer']}", f"to={wa['peer']}", "kind=offer")
    assert "candidates=host" in offer
    assert "bytes=" in offer
    line_with("refused", "reason=unknown-peer")
    line_with("refused", "reason=bad-ticket", "not a well-formed JWT")
    line_with(" hook ", "sprint=5", "model=task", "action=updated", "delivered=2")
    line_with(" leave ", f"peer={wb['peer']}", "reason=")
    assert ticket_a not in log
    assert SECRET not in log
    assert "a=candidate" not in log
    assert "v=0" not in log


async def test_json_log_format() -> None:
    server = SignalingProcess(SECRET, "--log-format", "json").wait_ready()
    try:
        async with client_session() as session:
            ws = await session.ws_connect(server.ws_url)
            await ws.send_json(
                {"type": "join", "ticket": mint_ticket(SECRET, sprint="9", user_id="3", name="Q")}
            )
            welcome = await receive_type(ws, "welcome")
            await ws.close()
    finally:
        server.stop()
    entries = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    joins = [e for e in entries if e["event"] == "join"]
    assert joins
    assert joins[0]["sprint"] == "9"
    assert joins[0]["peer"] == welcome["peer"]
    assert joins[0]["level"] == "info"
    assert joins[0]["ts"].endswith("Z")
    assert any(e["event"] == "leave" for e in entries)


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        ((), "run every instance on this port with --reuse-port and a shared --broker"),
        (("--reuse-port", "--broker", "redis://127.0.0.1:1/0"), "holds it without --reuse-port"),
    ],
)
def test_a_taken_port_is_named_with_the_way_out(args: tuple[str, ...], hint: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "signaling", "--port", str(port), *args],
            cwd=ROOT,
            env={**os.environ, "WATERCOOLER_SECRET": SECRET},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert f'listen-failed reason="cannot listen on 127.0.0.1:{port}: Address already in use' in (
        done.stderr
    )
    assert hint in done.stderr
    assert "Traceback" not in done.stderr
    assert " listening " not in done.stderr
