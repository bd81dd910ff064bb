"""Start and stop the servers under test on free loopback ports, each pinned to one core.

``ours`` is ``python -m signaling`` from this checkout with limits that never throttle the load;
``ours-before`` the same from ``signaling/`` as it was at a baseline revision (exported into
``bench/.servers/ours-before``); ``y-webrtc`` is ``bin/server.js`` of the npm package ``y-webrtc``
and ``peerjs`` the ``peerjs`` command of the npm package ``peer`` (both in ``bench/.servers``, from
``make -C bench servers``). A cluster is several instances of ours on one private Redis. The
generator takes the cores the servers do not. Nothing here measures.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.support.processes import ROOT, free_port
from tests.support.redis import RedisServer

SERVERS_DIR: Final = ROOT / "bench" / ".servers"
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
    """Refuse to go on outside a loopback-only network namespace (tools/in_netns.sh)."""
    if [name for _, name in socket.if_nameindex()] != ["lo"]:
        raise SystemExit(
            f"{what}: run inside a loopback-only network namespace (tools/in_netns.sh)"
        )


def server_core() -> str | None:
    """The core servers are pinned to (the last one), or None on a one-core machine."""
    cores = os.cpu_count() or 1
    return str(cores - 1) if cores > 1 and shutil.which("taskset") else None


def pin_generator() -> list[int]:
    """Pin this process (the load generator) to every core but the server's; return them."""
    if (core := server_core()) is not None:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)) - {int(core)})
    return sorted(os.sched_getaffinity(0))


def command_for(name: str, port: int) -> tuple[list[str], dict[str, str], Path]:
    """The command line, extra environment and working directory that start ``name``."""
    modules = SERVERS_DIR / "node_modules"
    if is_ours(name):
        command = [sys.executable, "-m", "signaling", "--host", "127.0.0.1", "--port", str(port)]
        env = {"WATERCOOLER_SECRET": SECRET}
        if name == BASELINE:
            return [*command, *OUR_FLAGS], env, BASELINE_TREE
        return [*command, *OUR_FLAGS, *CURRENT_FLAGS], env, ROOT
    if name == "y-webrtc":  # listens on every address: inside the namespace, only 127.0.0.1
        return ["node", str(modules / "y-webrtc/bin/server.js")], {"PORT": str(port)}, ROOT
    if name == "peerjs":
        script = str(modules / "peer/dist/bin/peerjs.js")
        flags = ["--host", "127.0.0.1", "--port", str(port), "--concurrent_limit", "30000"]
        return ["node", script, *flags], {}, ROOT
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
    """One running server; leaving ``with`` stops it."""

    name: str
    port: int
    process: subprocess.Popen[bytes]

    def __post_init__(self) -> None:
        self.pid = self.process.pid
        path = "/ws" if is_ours(self.name) else "/peerjs" if self.name == "peerjs" else ""
        self.ws_url = f"ws://127.0.0.1:{self.port}{path}"
        self.http_url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_server(
    name: str,
    *,
    timeout: float = 20.0,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
    prefix: tuple[str, ...] = (),
    logs: Path = LOG_DIR,
) -> ServerProcess:
    """Start ``name`` pinned to the server core, on ``port`` (default: a free one), and wait until
    it answers HTTP; ``prefix`` runs it under another program (``valgrind``, say). Its output goes
    to a file in ``logs``."""
    port = port or free_port()
    command, extra_env, cwd = command_for(name, port)
    core = server_core()
    command = [*(("taskset", "-c", core) if core else ()), *prefix, *command, *extra_args]
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{name}-{port}.log"
    with log_path.open("ab") as log:
        env = {**os.environ, **extra_env}
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(name, port, process)
    probe = server.http_url + ("/healthz" if is_ours(name) else "/")
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):  # an error status is an answer too
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(probe, timeout=1).close()
            return server
        time.sleep(0.05)
    server.close()
    raise RuntimeError(
        f"{name} exited with {process.returncode} or did not answer (log: {log_path})"
    )


def instances_health(
    http_url: str, instances: int, timeout: float = 20.0
) -> list[dict[str, object]]:
    """Each instance's ``/healthz`` on the port they share: every request is a new connection,
    which the kernel hands to one of them; ask until all have answered."""
    seen: dict[str, dict[str, object]] = {}
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
    core; yields them and every pid, Redis's last. ``shared_port``: all listen on one port with
    ``--reuse-port`` (the kernel spreads connections; we wait until every one has answered)."""
    port = free_port() if shared_port else None
    with contextlib.ExitStack() as stack:
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-redis-"))
        redis = RedisServer(Path(directory)).start()
        stack.callback(redis.stop)
        assert redis.process is not None
        if core := server_core():  # every thread of it, started by now
            subprocess.run(
                ["taskset", "-a", "-p", "-c", core, str(redis.process.pid)],
                check=True,
                capture_output=True,
            )
        reuse = ("--reuse-port",) if shared_port else ()
        args = ("--broker", redis.url, *reuse)
        servers = [
            stack.enter_context(start_server("ours", extra_args=args, port=port, logs=logs))
            for _ in range(instances)
        ]
        if port is not None:
            instances_health(f"http://127.0.0.1:{port}", instances)
        yield servers, (*(server.pid for server in servers), redis.process.pid)
