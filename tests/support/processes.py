"""Run the real servers as child processes on free loopback ports, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(
    url: str, timeout: float = 20.0, process: subprocess.Popen[Any] | None = None
) -> None:
    """Poll ``url`` until it answers 2xx; fail with the child's output if it dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            if process.stdout:
                process.stdout.close()
            raise RuntimeError(
                f"process exited with {process.returncode} before {url} answered:\n{output}"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if 200 <= response.status < 300:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class SignalingProcess:
    """``python -m signaling`` on a free port; ``stop()`` sends SIGTERM, returns the exit code."""

    def __init__(
        self,
        secret: str,
        *args: str,
        port: int | None = None,
        env: dict[str, str] | None = None,
        extra_args: Sequence[str] = (),
        preexec_fn: Callable[[], None] | None = None,
        module: str = "signaling",
    ) -> None:
        """``module``: what ``python -m`` runs, ``signaling`` or a launcher of it (such as
        ``tests.support.skewed_clock``)."""
        self.port = port or free_port()
        self.secret = secret
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (closed in _collect_output)
        environment = {**os.environ, **(env or {}), "WATERCOOLER_SECRET": secret}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                module,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *args,
                *extra_args,
            ],
            cwd=ROOT,
            env=environment,
            # A file, not a pipe: nobody reads a pipe while the test runs, and a server whose
            # log fills a pipe's 64 KiB would block on its next line.
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,  # e.g. lower a limit of the child's only
        )
        self._output: str | None = None

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def hook_url(self) -> str:
        return f"{self.http_url}/hooks/board"

    def wait_ready(self, timeout: float = 20.0) -> SignalingProcess:
        try:
            wait_for_http(f"{self.http_url}/healthz", timeout, self.process)
        except RuntimeError as exc:
            self._collect_output()
            raise RuntimeError(f"{exc}{self._output}") from None
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the process, wait for it, collect its output; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._collect_output()
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self._collect_output()

    def _collect_output(self) -> None:
        if self._output is None:
            self._log.seek(0)
            self._output = self._log.read()
            self._log.close()

    def log_text(self) -> str:
        """What the process has printed so far, while it runs (read without moving the offset
        the child writes at)."""
        if self._output is not None:
            return self._output
        size = os.fstat(self._log.fileno()).st_size
        return os.pread(self._log.fileno(), size, 0).decode("utf-8", "replace")

    def wait_for_log(self, text: str, timeout: float = 20.0, after: int = 0) -> int:
        """Until ``text`` appears in the log past offset ``after`` (polled, bounded); returns
        the offset just past it."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log_text()
            found = log.find(text, after)
            if found >= 0:
                return found + len(text)
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{text!r} never logged:\n{log}")
            time.sleep(0.05)

    def output(self) -> str:
        """Everything the process printed (stops it first if it is still running)."""
        self.stop()
        return self._output or ""


class BoardProcess:
    """The board under gunicorn on ``port`` with ``env``; ``stop()`` terminates it. With
    ``threads`` above 1 gunicorn keeps connections alive (its threaded worker) for ``keep_alive``
    seconds (its default: 2).

    Its output goes to a file (see SignalingProcess) and is shown if it fails to start.
    """

    def __init__(
        self, port: int, env: dict[str, str], *, threads: int = 1, keep_alive: float | None = None
    ) -> None:
        self.port = port
        self._log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "-m", "gunicorn", "board.wsgi", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", "2", "--threads", str(threads), "--log-level", "warning"]
        command += ["--no-control-socket"]  # nothing written outside the checkout
        if keep_alive is not None:  # idle kept connections are closed after this many seconds
            command += ["--keep-alive", f"{keep_alive:g}"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> BoardProcess:
        try:
            wait_for_http(f"{self.url}/login/", timeout, self.process)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"{exc}{self.output}") from None
        return self

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        """Terminate (kill if it lingers) and keep its output in ``output``; safe twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if not self._log.closed:
            self._log.seek(0)
            self.output = self._log.read()
            self._log.close()

    output = ""
