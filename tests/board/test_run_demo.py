"""``make run`` end to end: ``python -m tools.run_demo`` on free ports with a scratch state dir.

It must migrate, seed, serve the board with gunicorn next to a real signaling server sharing one
secret (a ticket from the board joins; a change reaches the peer through the hook), print the login
and the bot command, append signaling's log to ``var/signaling.log``, and stop both on Ctrl-C. It
runs with an open-file limit too low for signaling's usual 25000 connections, which the demo must
say once, plainly.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.board.signaling_process import WAIT, free_port, receive_type

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
# Below what signaling's default --max-connections needs (and within any hard limit we may have).
FILE_LIMIT = min(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
EARLIER_LOG = "2026-01-01 00:00:00.000 INFO  stopped\n"  # a line of a previous run's log


def low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


class Demo:
    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        var_dir.mkdir(parents=True)
        (var_dir / "signaling.log").write_text(EARLIER_LOG)
        self.board_port, self.signaling_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "STATIC_ROOT"}}
        env.pop("SECRET_KEY", None)
        env.pop("WATERCOOLER_SECRET", None)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tools.run_demo",
                "--board-port",
                str(self.board_port),
                "--signaling-port",
                str(self.signaling_port),
                "--var-dir",
                str(var_dir),
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env={**env, "STATIC_ROOT": str(var_dir / "static")},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=low_file_limit,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def close(self) -> None:
        # Ctrl-C first, so that run_demo stops its own children (gunicorn, signaling run in
        # sessions of their own: killing run_demo alone would leave them holding our pipe).
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait(WAIT)
        self.reader.join(WAIT)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {pattern!r} in run_demo output:\n{''.join(self.output)}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    @property
    def board(self) -> str:
        return f"http://127.0.0.1:{self.board_port}"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    running = Demo(tmp_path / "var")
    yield running
    running.close()


async def test_make_run_serves_board_and_signaling_and_stops_on_ctrl_c(demo: Demo) -> None:
    sprint_id = demo.wait_for(r"open http://127\.0\.0\.1:\d+/sprints/(\d+)/", START_TIMEOUT)[1]
    demo.wait_for(r"demo / demo", WAIT)
    demo.wait_for(r"signaling on ws://", WAIT)
    log = demo.wait_for(r"Signaling log: (\S+) \(read it: (.*)\)", WAIT)
    assert Path(log[1]) == demo.var_dir / "signaling.log"
    assert log[2] == f".venv/bin/python -m signaling.logs {log[1]}"
    bot = demo.wait_for(r"Bot: (.*)", WAIT)[1]
    assert bot.endswith(f"--user robo --password demo --sprint {sprint_id}")
    assert f"--board {demo.board}" in bot
    said = "".join(demo.output)
    assert "--max-connections lowered" not in said
    assert said.count(f"open {FILE_LIMIT} files") == 1, said

    timeout = aiohttp.ClientTimeout(total=WAIT)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        async with http.get(f"{demo.board}/login/") as page:
            assert page.status == 200
            # DEBUG off, over plain HTTP: the policy applies, the cookies work without HTTPS.
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
            cookie = page.headers["Set-Cookie"]
            assert cookie.startswith("csrftoken=")
            assert "secure" not in cookie.lower()
        async with http.get(f"{demo.board}/static/watercooler/site.css") as css:
            assert css.status == 200
        robo = {"username": "robo", "password": "demo"}  # the bot command's login
        async with http.post(f"{demo.board}/api/token/", data=robo) as response:
            assert response.status == 200
        login = {"username": "demo", "password": "demo"}
        async with http.post(f"{demo.board}/api/token/", data=login) as response:
            token = (await response.json())["token"]
        auth = {"Authorization": f"Token {token}"}
        async with http.get(f"{demo.board}/api/sprints/{sprint_id}/", headers=auth) as response:
            signaling = (await response.json())["links"]["signaling"]
        assert signaling["url"] == f"ws://127.0.0.1:{demo.signaling_port}/ws"

        headers = {"Origin": demo.board}
        async with http.ws_connect(signaling["url"], headers=headers) as ws:
            await ws.send_json({"type": "join", "ticket": signaling["ticket"]})
            await receive_type(ws, "welcome")
            task = {"name": "from the test", "sprint": int(sprint_id)}
            async with http.post(f"{demo.board}/api/tasks/", json=task, headers=auth) as created:
                assert created.status == 201
            event = await receive_type(ws, "event")
            assert event["event"]["task"]["name"] == "from the test"

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(20) == 0
    demo.wait_for(r"run_demo: stopped\.", WAIT)

    # The log file holds what the terminal showed of signaling, after the earlier run's lines.
    text = (demo.var_dir / "signaling.log").read_text()
    assert text.startswith(EARLIER_LOG)
    assert re.search(rf"INFO +listening host=127\.0\.0\.1 port={demo.signaling_port}\b", text)
    assert " stopped" in text.splitlines()[-1]
    assert all(line in "".join(demo.output) for line in text.splitlines()[1:])
    story = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "signaling.logs", str(demo.var_dir / "signaling.log")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert story.returncode == 0, story.stderr
    assert f"sprint {sprint_id}" in story.stdout
