"""Start and stop the servers under test on free loopback ports, each pinned to one core.

``ours`` is ``python -m signaling`` from this checkout with limits that never throttle the load;
``ours-before`` the same from ``signaling/`` as it was at a baseline revision (exported into
``bench/.servers/ours-before``); ``y-webrtc`` is ``bin/server.js`` of the npm package ``y-webrtc``
and ``peerjs`` the ``peerjs`` command of the npm package ``peer`` (both in ``bench/.servers``, from
``make -C bench servers``). A cluster is several instances of ours on one private Redis.
The generator takes the cores the servers do not. Nothing here measures.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

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


def revision() -> str:
    """This checkout's short commit hash ("?" outside a git checkout)."""
    try:
        return _git("rev-parse", "--short", "HEAD").decode().strip()
    except (BaselineError, OSError, subprocess.SubprocessError):
        return "?"


def require_loopback_only(what: str) -> None:
    """Refuse to go on outside a loopback-only network namespace (tools/in_netns.sh), where
    Chromium, aiortc and the servers can reach nothing but 127.0.0.1."""
    if [name for _, name in socket.if_nameindex()] != ["lo"]:
        raise SystemExit(
            f"{what}: run inside a loopback-only network namespace (tools/in_netns.sh)"
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


def _start_pinned(command: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    core = server_core()
    return subprocess.Popen(["taskset", "-c", core, *command] if core else command, **popen)


def wait_ready(
    process: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float, what: str
) -> None:
    """Until ``ready()`` (an OSError counts as not yet); stop it and raise if it exits or times
    out first."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if ready():
                return
        time.sleep(0.05)
    failed = process.poll() is not None
    stop_process(process)
    if failed:
        raise RuntimeError(f"{what} exited with {process.returncode}")
    raise TimeoutError(f"{what} did not answer within {timeout} s")


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
    """One running server; ``close()`` stops it (safe to call twice), and so does ``with``."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

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


def answers_http(url: str) -> bool:
    """Whether ``url`` answers at all (an error status is an answer; no connection raises)."""
    with contextlib.suppress(urllib.error.HTTPError):  # an error status is an answer too
        urllib.request.urlopen(url, timeout=1).close()
    return True


def start_server(
    name: str,
    *,
    timeout: float = 20.0,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
    prefix: tuple[str, ...] = (),
    logs: Path = LOG_DIR,
) -> ServerProcess:
    """Start ``name`` on ``port`` (default: a free loopback port) and wait until it answers HTTP;
    ``prefix`` runs it under another program in the same process (``valgrind``, say). Its output
    goes to a file in ``logs``."""
    port = port or free_port()
    command, extra_env, cwd = command_for(name, port)
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}-{port}.log"
    with log_path.open("ab") as log:
        env = {**os.environ, **extra_env}
        command = [*prefix, *command, *extra_args]
        process = _start_pinned(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(name, port, process)
    probe = server.http_url + ("/healthz" if is_ours(name) else "/")
    wait_ready(process, lambda: answers_http(probe), timeout, f"{name} (log: {log_path})")
    return server


def instances_health(http_url: str, instances: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Each instance's ``/healthz`` on the port they share: every request is a new connection,
    which the kernel hands to one of them; ask until all have answered."""
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < instances:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(seen)} of {instances} instances answered")
        with urllib.request.urlopen(f"{http_url}/healthz", timeout=5) as answer:
            health = json.load(answer)
        seen[str(health["instance"])] = health
    return list(seen.values())


@contextlib.contextmanager
def start_cluster(
    instances: int, *, shared_port: bool = False, logs: Path = LOG_DIR
) -> Iterator[tuple[list[ServerProcess], tuple[int, ...]]]:
    """``instances`` of ours with ``--broker`` on one private ``redis-server``, all on the server
    core (the one core a single server gets); yields them and every pid, Redis's last.

    ``shared_port``: all listen on one port with ``--reuse-port`` (the kernel spreads connections
    among them; we wait until every one has answered there); otherwise each has its own port.
    """
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (make test-deps installs it as root)")
    redis_port, port = free_port(), free_port() if shared_port else None
    with contextlib.ExitStack() as stack:
        # Nothing is saved; a directory of its own all the same, removed once it has stopped.
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-redis-"))
        command = [executable, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", directory]
        redis = _start_pinned(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(stop_process, redis)

        def pong() -> bool:
            with socket.create_connection(("127.0.0.1", redis_port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")

        wait_ready(redis, pong, 10.0, f"redis-server on port {redis_port}")
        reuse = ("--reuse-port",) if shared_port else ()
        args = ("--broker", f"redis://127.0.0.1:{redis_port}/0", *reuse)
        servers = [
            stack.enter_context(start_server("ours", extra_args=args, port=port, logs=logs))
            for _ in range(instances)
        ]
        if port is not None:
            instances_health(f"http://127.0.0.1:{port}", instances)
        yield servers, (*(server.pid for server in servers), redis.pid)
