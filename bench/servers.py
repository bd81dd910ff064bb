"""Start and stop the three servers under test on free loopback ports.

- ``ours``: ``python -m signaling`` with rate limits high enough never to throttle the benchmark;
- ``y-webrtc``: ``bin/server.js`` of the npm package ``y-webrtc``;
- ``peerjs``: the ``peerjs`` command of the npm package ``peer``.

Each server is pinned to one core with ``taskset`` (the generator takes the other), so the two never
compete for a core. The npm packages live in ``bench/.servers`` (``make -C bench servers``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

BENCH_DIR: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH_DIR.parent
SERVERS_DIR: Final = BENCH_DIR / ".servers"
LOG_DIR: Final = SERVERS_DIR / "logs"
SECRET: Final = "bench-secret-" + "b" * 32
SERVER_NAMES: Final = ("ours", "y-webrtc", "peerjs")

# Our server's limits for the benchmark: nothing may throttle the load (documented in the report).
OUR_FLAGS: Final = (
    "--rate",
    "100000",
    "--burst",
    "100000",
    "--relay-rate",
    "100000",
    "--max-peers-per-sprint",
    "100",
    "--max-connections",
    "30000",
    "--max-rooms",
    "30000",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_core() -> str | None:
    """The core servers are pinned to (the last one), or None on a one-core machine."""
    cores = os.cpu_count() or 1
    return str(cores - 1) if cores > 1 and shutil.which("taskset") else None


def pin_generator() -> list[int]:
    """Pin this process (the load generator) to every core but the server's; return them."""
    core = server_core()
    if core is not None:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)) - {int(core)})
    return sorted(os.sched_getaffinity(0))


def command_for(name: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment that start server ``name`` on ``port``."""
    modules = SERVERS_DIR / "node_modules"
    if name == "ours":
        command = [sys.executable, "-m", "signaling", "--host", "127.0.0.1", "--port", str(port)]
        return [*command, *OUR_FLAGS], {"WATERCOOLER_SECRET": SECRET}
    if name == "y-webrtc":
        # bin/server.js takes its port from PORT and listens on every address; `make bench` runs
        # inside a loopback-only network namespace, so every address is 127.0.0.1 there.
        return ["node", str(modules / "y-webrtc" / "bin" / "server.js")], {"PORT": str(port)}
    if name == "peerjs":
        script = modules / "peer" / "dist" / "bin" / "peerjs.js"
        flags = ["--host", "127.0.0.1", "--port", str(port), "--concurrent_limit", "30000"]
        return ["node", str(script), *flags], {}
    raise ValueError(f"unknown server {name!r}; expected one of {SERVER_NAMES}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s; safe to call twice."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class ServerProcess:
    """One running server; ``close()`` stops it (safe to call twice)."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    pinned_core: str | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        if self.name == "ours":
            return f"ws://127.0.0.1:{self.port}/ws"
        if self.name == "peerjs":
            return f"ws://127.0.0.1:{self.port}/peerjs"
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_server(
    name: str,
    *,
    pin: bool = True,
    timeout: float = 20.0,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
    prefix: tuple[str, ...] = (),
) -> ServerProcess:
    """Start ``name`` on ``port`` (default: a free loopback port) and wait until it answers HTTP.

    ``prefix`` runs the server under another program in the same process (``valgrind``, say).

    On a port other instances already serve (``--reuse-port``) an answer may come from one of
    them: :func:`start_cluster` then waits until every instance has answered.
    """
    port = port or free_port()
    command, extra_env = command_for(name, port)
    command = [*prefix, *command, *extra_args]
    core = server_core() if pin else None
    if core is not None:
        command = ["taskset", "-c", core, *command]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(name, port, process, log_path, core)
    probe = f"{server.http_url}/healthz" if name == "ours" else server.http_url + "/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(probe, timeout=1):
                return server
        except urllib.error.HTTPError:
            return server  # it answered, which is all we wait for
        except OSError:
            time.sleep(0.05)
    server.close()
    raise TimeoutError(f"{name} did not answer on port {port} within {timeout} s; see {log_path}")


@dataclass
class Cluster:
    """Several instances of ours sharing one private ``redis-server``, all on the server core."""

    redis: subprocess.Popen[bytes]
    instances: list[ServerProcess]

    @property
    def pids(self) -> tuple[int, ...]:
        return (*(i.pid for i in self.instances), self.redis.pid)

    def close(self) -> None:
        for instance in self.instances:
            instance.close()
        stop_process(self.redis)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_redis(timeout: float = 10.0) -> tuple[subprocess.Popen[bytes], int]:
    """A private ``redis-server`` (nothing kept on disk) on a free loopback port."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (make bench installs it as root)")
    port = free_port()
    command = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", "/tmp"]
    core = server_core()
    if core is not None:
        command = ["taskset", "-c", core, *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"redis-server did not answer on port {port}")


def start_cluster(
    instances: int = 2, *, shared_port: bool = False, pin: bool = True, timeout: float = 20.0
) -> Cluster:
    """``instances`` of ours with ``--broker redis://…`` on one Redis, every process pinned to the
    server core (unless ``pin`` is False): then the cluster gets the one core a single server gets.

    ``shared_port``: all instances listen on one port with ``--reuse-port`` and the kernel spreads
    connections among them; otherwise each has its own port.
    """
    redis, redis_port = start_redis()
    cluster = Cluster(redis, [])
    port = free_port() if shared_port else None
    args: tuple[str, ...] = ("--broker", f"redis://127.0.0.1:{redis_port}/0")
    args += ("--reuse-port",) if shared_port else ()
    try:
        for _ in range(instances):
            cluster.instances.append(start_server("ours", extra_args=args, port=port, pin=pin))
        if port is not None:
            _wait_for_instances(cluster, port, timeout)
    except BaseException:
        cluster.close()
        raise
    return cluster


def _wait_for_instances(cluster: Cluster, port: int, timeout: float) -> None:
    """Until ``/healthz`` on the shared ``port`` has answered from as many instances as started."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < len(cluster.instances):
        for instance in cluster.instances:
            if instance.process.poll() is not None:
                raise RuntimeError(
                    f"an instance exited with {instance.process.returncode}; "
                    f"see {instance.log_path}"
                )
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"only {len(seen)} of {len(cluster.instances)} instances answered "
                f"on port {port} within {timeout} s"
            )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            seen.add(json.load(response)["instance"])
