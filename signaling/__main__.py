"""``python -m signaling``: run the signaling server until SIGINT/SIGTERM, then exit 0."""

from __future__ import annotations

import asyncio
import errno
import gc
import os
import signal
import sys

from aiohttp import web

from signaling.app import create_app
from signaling.config import ConfigurationError, Settings, settings_from_args
from signaling.logs import configure_logging, events, log_event
from signaling.serving import make_runner


class ListenFailed(Exception):
    """The server could not listen on its address; the message says why and what to do."""


def listen_failure(settings: Settings, port: int, exc: OSError) -> ListenFailed:
    """Name the address and the cause, and for a taken port the usual ways out."""
    cause = os.strerror(exc.errno) if exc.errno else str(exc)
    where = f"cannot listen on {settings.host}:{port}: {cause}"
    if exc.errno != errno.EADDRINUSE:
        return ListenFailed(where)
    if port == settings.instance_port:
        hint = "--instance-port must be free and different for every instance"
    elif settings.reuse_port:
        hint = "another process holds it without --reuse-port"
    else:
        hint = (
            "another process holds it; choose another --port, or run every instance on this "
            "port with --reuse-port and a shared --broker"
        )
    return ListenFailed(f"{where} ({hint})")


async def serve(settings: Settings) -> None:
    """Listen until SIGINT or SIGTERM, then shut down: 1001 to every peer, a summary, cleanup."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = make_runner(
        create_app(settings), access_log=None, shutdown_timeout=settings.shutdown_timeout
    )
    await runner.setup()
    try:
        sites = {
            settings.port: web.TCPSite(
                runner, settings.host, settings.port, reuse_port=settings.reuse_port
            )
        }
        if settings.instance_port is not None:
            sites[settings.instance_port] = web.TCPSite(
                runner, settings.host, settings.instance_port
            )
        for port, site in sites.items():
            try:
                await site.start()
            except OSError as exc:
                raise listen_failure(settings, port, exc) from None
        log_event(
            "listening",
            host=settings.host,
            port=settings.port,
            loop=settings.event_loop,
            reuse_port="yes" if settings.reuse_port else "no",
            instance_port=settings.instance_port,
        )
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    try:
        settings, warnings = settings_from_args(argv)
    except ConfigurationError as exc:
        print(f"signaling: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, settings.debug)
    for warning in warnings:
        log_event("warning", 30, message=warning)
    if settings.event_loop == "uvloop":
        import uvloop  # libuv's loop: less per-message I/O overhead than asyncio's own

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # Fewer young-generation collections (every relayed message allocates a few dicts), and
    # start-up objects (modules, app) moved out of the collector's way: with many idle
    # connections the collector kept walking objects that never die (docs/benchmarks.md).
    gc.set_threshold(10_000, 20, 20)
    gc.freeze()
    try:
        asyncio.run(serve(settings))
    except ListenFailed as exc:
        log_event("listen-failed", 40, reason=str(exc))  # the log is on stderr
        events.flush()
        return 1
    events.flush()
    log_event("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
