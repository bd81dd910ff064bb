"""The aiohttp application: ``/ws``, the hook ``/hooks/board``, ``/healthz`` and ``/metrics``.

``create_app`` assembles it the aiohttp way: one :class:`~signaling.service.SignalingService` under
a typed key, each endpoint a small handler, start and stop in the application's signals. Websockets
are served by a transport (``signaling.fastpath`` in front, ``signaling.aiohttp_transport`` on
``/ws``); the session rules are the core's (``signaling.core``). This module only checks the hook's
request and answers HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Final

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from signaling.aiohttp_transport import handle_websocket
from signaling.config import Settings
from signaling.descriptors import fit_to_descriptors
from signaling.errors import HookRejected
from signaling.logs import events, log_event
from signaling.metrics import SignalingMetrics
from signaling.service import SignalingService
from signaling.tickets import ReplayGuard, verify_hook

SERVICE: Final = web.AppKey("service", SignalingService)


class Endpoints:
    """The HTTP handlers of one application."""

    def __init__(self, service: SignalingService, limits_note: str | None = None) -> None:
        self.service = service
        self.limits_note = limits_note
        self.settings = service.settings
        self.metrics = SignalingMetrics(service)
        self.replay_guard = ReplayGuard()

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        return await handle_websocket(request, self.service)

    async def hook(self, request: web.Request) -> web.Response:
        """``POST /hooks/board``: a signed board event for one sprint's peers (protocol 1.5)."""
        announced = request.content_length
        if announced is not None and announced > self.settings.hook_max_bytes:
            refusal = self._hook_refused(
                request, 413, f"body larger than {self.settings.hook_max_bytes} bytes"
            )
            refusal.force_close()  # its body is not read
            return refusal
        if len(request.headers.getall("Authorization", [])) > 1:
            return self._hook_refused(request, 401, "more than one Authorization header")
        try:
            body = await asyncio.wait_for(request.read(), self.settings.http_timeout)
        except web.HTTPRequestEntityTooLarge:
            return self._hook_refused(
                request, 413, f"body larger than {self.settings.hook_max_bytes} bytes"
            )
        except TimeoutError:
            response = self._hook_refused(
                request, 408, f"body not received within {self.settings.http_timeout:g} s"
            )
            response.force_close()  # the rest of the body may still come: end the connection
            return response
        except (ConnectionError, asyncio.IncompleteReadError, web.HTTPException) as exc:
            self._hook_refused(request, 400, f"connection lost while reading the body ({exc})")
            raise web.HTTPBadRequest(text="incomplete body") from None
        try:
            verify_hook(
                request.headers.get("Authorization"), body, self.settings.secret, self.replay_guard
            )
        except HookRejected as exc:
            return self._hook_refused(request, 401, exc.message)
        try:
            sprint, event = parse_hook_body(body)
        except ValueError as exc:
            return self._hook_refused(request, 400, str(exc))
        delivered = await self.service.hook_event(sprint, event)
        log_event(
            "hook",
            sprint=sprint,
            model=event.get("model"),
            action=event.get("action"),
            delivered=delivered,
            bytes=len(body),
        )
        return web.json_response({"delivered": delivered}, status=202)

    def _hook_refused(self, request: web.Request, status: int, reason: str) -> web.Response:
        self.service.core.counters.hook_events["rejected"] += 1
        log_event("hook-refused", logging.WARNING, reason=reason, addr=request.remote)
        return web.json_response({"error": reason}, status=status)

    async def healthz(self, request: web.Request) -> web.Response:
        service = self.service
        core = service.core
        status = "ok" if service.broker.available else "degraded: broker unavailable"
        return web.json_response(
            {
                "status": "shutting-down" if core.shutting_down else status,
                "connections": len(core.sessions),
                "rooms": core.rooms.room_count,
                "peers": core.rooms.peer_count,
                "broker": self.settings.broker.split("://")[0],
                "instance": service.broker.instance,
            },
            status=503 if core.shutting_down else 200,
        )

    async def metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    # --- lifecycle ----------------------------------------------------------------------------

    async def on_startup(self, app: web.Application) -> None:
        if self.limits_note is not None:
            log_event("limits", message=self.limits_note)
        await self.service.start()
        settings = self.settings
        log_event(
            "started",
            origins=",".join(settings.allowed_origins)
            or ("any (debug)" if settings.debug else "none"),
            transport=settings.transport,
            max_frame_bytes=settings.max_frame_bytes,
            rate=settings.rate,
            max_peers_per_sprint=settings.max_peers_per_sprint,
            broker=settings.broker.split("://")[0],
            instance=self.service.broker.instance,
            ice_servers=len(settings.ice_servers) + (1 if settings.turn_urls else 0),
            max_connections=settings.max_connections,
            descriptors=self.service.descriptor_limit,
        )

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every socket with 1001 so clients reconnect elsewhere."""
        await self.service.shutdown(self.settings.shutdown_timeout)

    async def on_cleanup(self, app: web.Application) -> None:
        await self.service.cleanup()
        events.flush()


def parse_hook_body(body: bytes) -> tuple[str, dict[str, Any]]:
    """``{"sprint":S,"event":{...}}`` → (sprint as a string, event); ValueError names the fault."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise ValueError("hook body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValueError("hook body must be a JSON object")
    sprint = payload.get("sprint")
    if isinstance(sprint, bool) or not isinstance(sprint, str | int) or sprint == "":
        raise ValueError('hook body needs "sprint" (a string or an integer)')
    event = payload.get("event")
    if not isinstance(event, dict):
        raise ValueError('hook body needs "event" (a JSON object)')
    try:
        # JSON allows what no frame can carry: half a surrogate pair ("\ud800"), which is not
        # Unicode text, and integers past 64 bits. Peers get the event re-encoded, so try now.
        orjson.dumps(event)
    except orjson.JSONEncodeError as exc:
        raise ValueError(f"hook event cannot be sent on to peers: {exc}") from None
    return str(sprint), event


def create_app(settings: Settings) -> web.Application:
    """Build the signaling application for ``settings`` (no sockets are opened here)."""
    settings, descriptors, limits_note = fit_to_descriptors(settings)
    app = web.Application(client_max_size=settings.hook_max_bytes)
    service = SignalingService(settings)
    service.descriptor_limit = descriptors
    app[SERVICE] = service
    endpoints = Endpoints(service, limits_note)
    app.router.add_get("/ws", endpoints.websocket, allow_head=False)
    app.router.add_post("/hooks/board", endpoints.hook)
    app.router.add_get("/healthz", endpoints.healthz)
    app.router.add_get("/metrics", endpoints.metrics_page)
    app.on_startup.append(endpoints.on_startup)
    app.on_shutdown.append(endpoints.on_shutdown)
    app.on_cleanup.append(endpoints.on_cleanup)
    return app
