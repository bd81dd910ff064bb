"""``make run``: the whole demo on one machine — the board (gunicorn) next to signaling.

Steps: make ``var/``; load the development secrets from ``var/dev-secrets.json`` (generated once;
the environment's ``SECRET_KEY``/``WATERCOOLER_SECRET`` win); ``migrate``, ``collectstatic`` and
``seed_demo``; start gunicorn and ``python -m signaling`` with the same secret (signaling's log also
goes to ``var/signaling.log``, appended, for ``python -m signaling.logs``); print where to go.
Ctrl-C (or SIGTERM) stops both. If signaling dies the board keeps serving (live updates are off) and
this says so; if the board dies everything stops.

Not for production: it runs SQLite unless ``DATABASE_URL`` is set, and binds to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from signaling.config import Settings
from signaling.descriptors import RESERVE, raise_limit
from tools.tee import Tee

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
BOT_USER = "robo"  # seeded by seed_demo, like demo and sam; password "demo"


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    tee: Tee | None = None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.run_demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--board-port", type=int, default=8000)
    parser.add_argument("--signaling-port", type=int, default=8080)
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var", help="state: secrets, SQLite")
    parser.add_argument(
        "--debug", action="store_true", help="Django DEBUG on (tracebacks in pages)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    return parser.parse_args(argv)


def load_or_create_secrets(path: Path) -> dict[str, str]:
    """The development secrets kept in ``path`` (mode 600), created on first use."""
    if path.exists():
        stored = json.loads(path.read_text())
        if isinstance(stored, dict) and {"SECRET_KEY", "WATERCOOLER_SECRET"} <= set(stored):
            return {k: str(stored[k]) for k in ("SECRET_KEY", "WATERCOOLER_SECRET")}
    created = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WATERCOOLER_SECRET": secrets.token_urlsafe(32),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(created, file)
    return created


def demo_environment(
    base: Mapping[str, str], stored: Mapping[str, str], args: argparse.Namespace
) -> dict[str, str]:
    """The environment of every child: one secret, the URLs that connect board and signaling."""
    var = args.var_dir.resolve()
    env = dict(base)
    for name, value in stored.items():
        if not base.get(name):
            env[name] = value
    env.setdefault("DJANGO_SETTINGS_MODULE", "board.settings")
    env["DEBUG"] = "true" if args.debug else env.get("DEBUG", "false")
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault("DATABASE_URL", f"sqlite:///{var / 'db.sqlite3'}")
    env.setdefault("STATIC_ROOT", str(var / "static"))
    # The demo serves plain HTTP on 127.0.0.1: cookies marked Secure would not come back (the
    # production settings otherwise apply, the Content-Security-Policy among them).
    env.setdefault("SESSION_COOKIE_SECURE", "false")
    env["WATERCOOLER_SIGNALING_URL"] = f"ws://127.0.0.1:{args.signaling_port}/ws"
    env["WATERCOOLER_HOOK_URL"] = f"http://127.0.0.1:{args.signaling_port}/hooks/board"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (connections of a just-stopped run, waiting in
    TIME-WAIT, do not count: the servers themselves listen with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def manage(env: Mapping[str, str], *command: str) -> str:
    """Run ``manage.py command`` to completion; its stdout. Exits on failure."""
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=dict(env), stdout=subprocess.PIPE
    )
    if result.returncode != 0:
        sys.exit(f"run_demo: manage.py {' '.join(command)} failed (exit {result.returncode})")
    return result.stdout.decode()


def start(name: str, command: list[str], env: Mapping[str, str], log: Path | None = None) -> Child:
    """Start ``command``; with ``log``, its output goes to our stdout and is appended to ``log``."""
    # A session of its own: Ctrl-C reaches only us, and we stop the children in order.
    output = subprocess.PIPE if log is not None else None
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(env),
        start_new_session=True,
        stdout=output,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    if log is None:
        return Child(name, process)
    assert process.stdout is not None
    return Child(name, process, Tee(process.stdout, log))


def signaling_connection_limit() -> tuple[int | None, str | None]:
    """The ``--max-connections`` to give signaling, and a plain sentence about it, when the
    open-file limit cannot make room for the usual number (None, None when it can).

    The soft limit is first raised as far as the hard limit allows (the children inherit it);
    signaling would otherwise lower its limit itself, with a log line that reads like a problem.
    """
    usual = Settings(secret="").max_connections
    limit, short = raise_limit(usual)
    if not short:
        return None, None
    allowed = max(1, limit - RESERVE)
    return allowed, (
        f"run_demo: this machine lets a process open {limit} files (ulimit -Hn), so signaling "
        f"takes up to {allowed} connections instead of {usual}; plenty for a demo"
    )


def wait_ready(children: list[Child], url: str, what: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                raise ChildDied(child)
        try:
            with opener.open(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{what} did not answer at {url} within {READY_TIMEOUT:.0f} s")


class ChildDied(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(f"{child.name} exited with code {child.process.returncode}")
        self.child = child


def stop(children: list[Child]) -> None:
    """SIGTERM each child still running, then wait; SIGKILL any that outstay STOP_TIMEOUT."""
    for child in children:
        if child.process.poll() is None:
            child.process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"run_demo: {child.name} did not stop in time; killing it", file=sys.stderr)
            child.process.kill()
            child.process.wait()
    for child in children:
        if child.tee is not None:
            child.tee.join(STOP_TIMEOUT)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (where the README's commands run)."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def banner(args: argparse.Namespace, sprint_id: int, signaling_up: bool) -> str:
    board = f"http://127.0.0.1:{args.board_port}"
    log = shown(args.var_dir / "signaling.log")
    live = (
        f"signaling on ws://127.0.0.1:{args.signaling_port}/ws"
        if signaling_up
        else "signaling is NOT running: the board works, live updates are off"
    )
    return "\n".join(
        [
            "",
            "=" * 72,
            f"  Watercooler is running: open {board}/sprints/{sprint_id}/",
            "  Log in as demo / demo (a second user: sam / demo)",
            f"  Admin: {board}/admin/ (first: .venv/bin/python manage.py createsuperuser)",
            f"  {live}",
            f"  Signaling log: {log} (read it: .venv/bin/python -m signaling.logs {log})",
            "  Bot: .venv/bin/python -m peer_client --board "
            f"{board} --user {BOT_USER} --password demo --sprint {sprint_id}",
            "  Ctrl-C stops everything.",
            "=" * 72,
            "",
        ]
    )


def supervise(board: Child, signaling: Child | None) -> int:
    """Wait until Ctrl-C or the board dies; report signaling dying. The exit code."""
    while True:
        if board.process.poll() is not None:
            print(
                f"run_demo: the board (gunicorn) exited with code {board.process.returncode}; "
                "stopping",
                file=sys.stderr,
            )
            return 1
        if signaling is not None and signaling.process.poll() is not None:
            print(
                f"run_demo: signaling exited with code {signaling.process.returncode}; the board "
                "keeps running but live updates are off",
                file=sys.stderr,
            )
            signaling = None
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    # Ctrl-C stops the demo even when started from a shell that ignored SIGINT for background
    # jobs (Python leaves an inherited "ignore" in place).
    signal.signal(signal.SIGINT, _raise_interrupt)
    args.var_dir.mkdir(parents=True, exist_ok=True)
    env = demo_environment(
        os.environ, load_or_create_secrets(args.var_dir / "dev-secrets.json"), args
    )
    for port, what in ((args.board_port, "board"), (args.signaling_port, "signaling")):
        if not port_free(port):
            sys.exit(
                f"run_demo: port {port} ({what}) is in use; stop what uses it or pick another "
                f"(make run BOARD_PORT=... SIGNALING_PORT=...)"
            )

    print("run_demo: migrating, collecting static files, seeding the demo...", flush=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    # Signaling is not up yet: seeding announces nothing rather than logging refused hooks.
    quiet = {**env, "WATERCOOLER_HOOK_URL": ""}
    sprint_id = int(json.loads(manage(quiet, "seed_demo", "--json"))["sprint"])

    board_origin = f"http://127.0.0.1:{args.board_port}"
    max_connections, limit_note = signaling_connection_limit()
    children: list[Child] = []
    try:
        board = start(
            "board",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "board.wsgi:application",
                "--bind",
                f"127.0.0.1:{args.board_port}",
                "--workers",
                str(args.workers),
                "--threads",
                "4",
                "--graceful-timeout",
                "5",
                "--access-logfile",
                "-",
                "--no-control-socket",  # else gunicorn writes ~/.gunicorn/gunicorn.ctl
            ],
            env,
        )
        children.append(board)
        signaling: Child | None = start(
            "signaling",
            [
                sys.executable,
                "-m",
                "signaling",
                "--host",
                "127.0.0.1",
                "--port",
                str(args.signaling_port),
                "--allowed-origin",
                board_origin,
                "--allowed-origin",
                f"http://localhost:{args.board_port}",
                *(["--max-connections", str(max_connections)] if max_connections else []),
            ],
            env,
            log=args.var_dir / "signaling.log",
        )
        assert signaling is not None
        children.append(signaling)
        wait_ready([board], f"{board_origin}/login/", "the board")
        try:
            wait_ready([signaling], f"http://127.0.0.1:{args.signaling_port}/healthz", "signaling")
        except (ChildDied, TimeoutError) as exc:
            print(
                f"run_demo: signaling failed to start ({exc}); the board runs without live updates",
                file=sys.stderr,
            )
            signaling = None
        if limit_note and signaling is not None:
            print(limit_note, flush=True)
        print(banner(args, sprint_id, signaling is not None), flush=True)
        return supervise(board, signaling)
    except ChildDied as exc:
        print(f"run_demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nrun_demo: stopping...", flush=True)
        return 0
    finally:
        stop(children)
        print("run_demo: stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
