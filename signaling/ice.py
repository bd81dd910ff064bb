"""ICE servers handed to clients in ``welcome``. No I/O.

STUN URLs pass through as they are. TURN URLs get per-user, time-limited credentials in coturn's
REST scheme (``use-auth-secret``): username ``<expiry>:<user id>``, credential
base64(HMAC-SHA1(secret, username)). coturn checks them with the same secret; nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from signaling.config import Settings


def turn_credentials(secret: str, user_id: str, expires: int) -> tuple[str, str]:
    username = f"{expires}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers_for(settings: Settings, user_id: str, now: float) -> list[dict[str, Any]]:
    """The RTCIceServer list for one joining user."""
    servers: list[dict[str, Any]] = [{"urls": url} for url in settings.ice_servers]
    if settings.turn_urls and settings.turn_secret:
        username, credential = turn_credentials(
            settings.turn_secret, user_id, int(now) + settings.turn_ttl
        )
        servers.append(
            {"urls": list(settings.turn_urls), "username": username, "credential": credential}
        )
    return servers
