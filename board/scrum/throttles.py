"""Request throttles: password guessing on ``POST /api/token/`` and floods of API writes.

| throttle | counts | rate setting (``THROTTLE_…``) |
| --- | --- | --- |
| :class:`TokenAddressThrottle` | token requests per client address | ``TOKEN_PER_ADDRESS`` |
| :class:`TokenUsernameThrottle` | token requests per username | ``TOKEN_PER_USERNAME`` |
| :class:`WriteThrottle` | POST, PUT, PATCH and DELETE per user | ``WRITES_PER_USER`` |

Rates are read from ``settings.WATERCOOLER_THROTTLE_RATES`` at each request (DRF's own rate table
is captured when its classes are defined), a rate of None turns a throttle off. Counts live in the
cache (the database: shared by every worker). Over a rate the API answers 429 with a message
saying which limit and ``Retry-After`` (see ``api_errors``).

The client address is DRF's: ``REMOTE_ADDR``, or the ``X-Forwarded-For`` entry that
``NUM_PROXIES`` points at behind proxies.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class SettingsRateThrottle(SimpleRateThrottle):
    """A throttle whose rate is ``settings.WATERCOOLER_THROTTLE_RATES[scope]``."""

    def get_rate(self) -> str | None:
        rate: str | None = settings.WATERCOOLER_THROTTLE_RATES.get(self.scope)
        return rate

    def key(self, ident: str) -> str:
        return str(self.cache_format % {"scope": self.scope, "ident": ident})


class TokenAddressThrottle(SettingsRateThrottle):
    scope = "token-address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.key(self.get_ident(request))


class TokenUsernameThrottle(SettingsRateThrottle):
    """Guesses at one account from many addresses. Case and surrounding spaces do not make a
    username new; it is hashed so that any text makes a valid cache key."""

    scope = "token-username"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None  # refused by the view as a missing field; nothing to count
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
        return self.key(digest)


class WriteThrottle(SettingsRateThrottle):
    """Writes per user (reads are never throttled); anonymous writes are refused before this."""

    scope = "writes"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(super().allow_request(request, view))

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return self.key(str(request.user.pk))
        return self.key(self.get_ident(request))
