"""The ``AppRunner`` for a signaling application: the transport ``--transport`` chose.

``fast`` (the default) puts ``signaling.fastpath`` in front of aiohttp; ``aiohttp`` serves every
websocket through aiohttp's ``WebSocketResponse``. Either way every HTTP connection must send each
request head within ``--http-timeout`` (aiohttp's keep-alive timer, which also closes idle
keep-alive connections after that long).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from signaling.app import SERVICE
from signaling.fastpath.listener import FastPathRunner


def make_runner(app: web.Application, **kwargs: Any) -> web.AppRunner:
    service = app[SERVICE]
    kwargs.setdefault("keepalive_timeout", service.settings.http_timeout)
    # After refusing a request whose body is still coming, wait this long for it (so the client
    # reads the answer before the connection closes), not aiohttp's 10 s.
    kwargs.setdefault("lingering_time", service.settings.close_timeout)
    # aiohttp's own default, set here so that tests (whose TestServer asks for True) run the
    # server as production does: a handler ends because its client went, not by cancellation.
    kwargs["handler_cancellation"] = False
    if service.settings.transport == "aiohttp":
        return web.AppRunner(app, **kwargs)
    return FastPathRunner(app, service, **kwargs)
