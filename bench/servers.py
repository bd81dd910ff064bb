"""Start and stop the servers under test on free loopback ports.

- ``ours``: ``python -m signaling`` from this checkout, with limits that never throttle the load;
- ``ours-before``: the same, run from ``signaling/`` as it was at a baseline revision
  (:func:`export_baseline` puts it in ``bench/.servers/ours-before``);
- ``y-webrtc``: ``bin/server.js`` of the npm package ``y-webrtc``;
- ``peerjs``: the ``peerjs`` command of the npm package ``peer``.

Each server is pinned to one core with ``taskset`` (the generator takes the others). The npm
packages live in ``bench/.servers`` (``make -C bench servers``). Nothing here measures.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Final

BENCH_DIR: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH_DIR.parent
SERVERS_DIR: Final = BENCH_DIR / ".servers"
LOG_DIR: Final = SERVERS_DIR / "logs"
SECRET: Final = "bench-secret-" + "b" * 32
BASELINE: Final = "ours-before"
BASELINE_TREE: Final = SERVERS_DIR / BASELINE
PEERS: Final = ("y-webrtc", "peerjs")
SERVER_NAMES: Final = ("ours", *PEERS)

# Our server's limits for the benchmark: nothing may throttle the load (the report says so).
OUR_FLAGS: Final = (
    *("--rate", "100000", "--burst", "100000", "--relay-rate", "100000"),
    *("--max-peers-per-sprint", "100", "--max-connections", "30000", "--max-rooms", "30000"),
)
# Limits this checkout has and a baseline may not know: every benchmark socket comes from one
# address and waits to join in bursts of thousands.
CURRENT_FLAGS: Final = ("--max-unjoined-per-address", "100000", "--max-peers-per-user", "100000")


def is_ours(name: str) -> bool:
    """Our server, at this checkout or at the baseline: it speaks our protocol."""
    return name in ("ours", BASELINE)


class BaselineError(RuntimeError):
    """The baseline revision cannot be exported (unknown here, or without ``signaling/``)."""


def _git(*args: str) -> bytes:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, timeout=120)
    if done.returncode != 0:
        raise BaselineError(f"git {args[0]}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def export_baseline(revision: str, tree: Path = BASELINE_TREE) -> str:
    """Put ``signaling/`` as it was at ``revision`` into ``tree`` (replacing what was there);
    return the revision's short hash."""
    try:
        full = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").decode().strip()
    except BaselineError:
        raise BaselineError(
            f"revision {revision!r} is not in this repository (a shallow clone? "
            "`git fetch --unshallow` brings the history)"
        ) from None
    archive = _git("archive", "--format=tar", full, "signaling")
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    if not (tree / "signaling" / "__main__.py").exists():
        raise BaselineError(f"revision {revision!r} has no signaling/__main__.py to run")
    return full[:7]


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


def command_for(name: str, port: int) -> tuple[list[str], dict[str, str], Path]:
    """The command line, extra environment and working directory that start ``name``."""
    modules = SERVERS_DIR / "node_modules"
    if is_ours(name):
        command = [sys.executable, "-m", "signaling", "--host", "127.0.0.1", "--port", str(port)]
        if name == BASELINE:
            return [*command, *OUR_FLAGS], {"WATERCOOLER_SECRET": SECRET}, BASELINE_TREE
        return [*command, *OUR_FLAGS, *CURRENT_FLAGS], {"WATERCOOLER_SECRET": SECRET}, ROOT
    if name == "y-webrtc":
        # bin/server.js takes its port from PORT and listens on every address; `make bench` runs
        # inside a loopback-only network namespace, so every address is 127.0.0.1 there.
        script = modules / "y-webrtc" / "bin" / "server.js"
        return ["node", str(script)], {"PORT": str(port)}, ROOT
    if name == "peerjs":
        script = modules / "peer" / "dist" / "bin" / "peerjs.js"
        flags = ["--host", "127.0.0.1", "--port", str(port), "--concurrent_limit", "30000"]
        return ["node", str(script), *flags], {}, ROOT
    raise ValueError(f"unknown server {name!r}; expected one of {(*SERVER_NAMES, BASELINE)}")


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

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def ws_url(self) -> str:
        path = "/ws" if is_ours(self.name) else "/peerjs" if self.name == "peerjs" else ""
        return f"ws://127.0.0.1:{self.port}{path}"

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
    """
    port = port or free_port()
    command, extra_env, cwd = command_for(name, port)
    command = [*prefix, *command, *extra_args]
    core = server_core() if pin else None
    if core is not None:
        command = ["taskset", "-c", core, *command]
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **extra_env}, stdout=log, stderr=subprocess.STDOUT
        )
    server = ServerProcess(name, port, process, log_path, core)
    probe = server.http_url + ("/healthz" if is_ours(name) else "/")
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
        """The instances' pids, then Redis's (last)."""
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
        raise RuntimeError("redis-server is not installed (make test-deps installs it as root)")
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


def start_cluster(instances: int, *, shared_port: bool = False, timeout: float = 20.0) -> Cluster:
    """``instances`` of ours with ``--broker redis://…`` on one Redis, all on the server core (so
    the cluster gets the one core a single server gets).

    ``shared_port``: all listen on one port with ``--reuse-port`` and the kernel spreads
    connections among them (then we wait until every instance has answered there); otherwise each
    has its own port.
    """
    redis, redis_port = start_redis()
    cluster = Cluster(redis, [])
    port = free_port() if shared_port else None
    args: tuple[str, ...] = ("--broker", f"redis://127.0.0.1:{redis_port}/0")
    args += ("--reuse-port",) if shared_port else ()
    try:
        for _ in range(instances):
            cluster.instances.append(start_server("ours", extra_args=args, port=port))
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        while port is not None and len(seen) < instances:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(seen)} of {instances} instances answered")
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                seen.add(json.load(answer)["instance"])
    except BaseException:
        cluster.close()
        raise
    return cluster
