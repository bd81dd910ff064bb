"""Sprint tickets: short-lived JWTs that let a logged-in user join one sprint's signaling room.

Format (docs/protocol.md 1.2): HS256 with ``WATERCOOLER_SECRET``; claims ``sprint`` and ``sub``
(strings), ``name`` (display name), ``aud`` = ``watercooler/signaling``, ``exp``, ``iat``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from django.conf import settings

from board.scrum.models import Sprint, display_name

TICKET_AUDIENCE = "watercooler/signaling"


@dataclass(frozen=True)
class SignalingTicket:
    """What a client needs to join: where, with which ticket, and until when."""

    url: str
    ticket: str
    expires: datetime

    def as_json(self) -> dict[str, str]:
        return {
            "url": self.url,
            "ticket": self.ticket,
            "expires": self.expires.isoformat().replace("+00:00", "Z"),
        }


def mint_ticket(user: Any, sprint: Sprint, *, now: float | None = None) -> SignalingTicket:
    """A fresh ticket for ``user`` to join ``sprint``, valid ``WATERCOOLER_TICKET_TTL`` seconds."""
    issued = int(now if now is not None else time.time())
    expires = issued + int(settings.WATERCOOLER_TICKET_TTL)
    claims = {
        "sprint": str(sprint.pk),
        "sub": str(user.pk),
        "name": display_name(user),
        "aud": TICKET_AUDIENCE,
        "iat": issued,
        "exp": expires,
    }
    token = jwt.encode(claims, settings.WATERCOOLER_SECRET, algorithm="HS256")
    return SignalingTicket(
        url=settings.WATERCOOLER_SIGNALING_URL,
        ticket=token,
        expires=datetime.fromtimestamp(expires, tz=UTC),
    )
