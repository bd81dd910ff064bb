"""Request throttles of the API: password guessing on ``POST /api/token/`` and floods of writes.

- :class:`LoginThrottle`: token requests per client address, then per username
  (``THROTTLE_TOKEN_PER_ADDRESS``, ``THROTTLE_TOKEN_PER_USERNAME``);
- :class:`WriteThrottle`: POST, PUT, PATCH and DELETE per user (``THROTTLE_WRITES_PER_USER``).

Rates are read from ``settings.WATERCOOLER_THROTTLE_RATES`` at each request; a rate of None turns
a limit off. The counting is ``board.limits`` (shared by every worker and host, atomic); the login
limits are the login pages' too (``board.limits.logins``). Over a rate the API answers 429 with a
message saying which limit and ``Retry-After`` (see ``api_errors``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from board.limits.clients import client_key
from board.limits.counting import Rate, count
from board.limits.logins import count_attempt


class LoginThrottle(BaseThrottle):
    """Every token request counts, right password or wrong (see ``board.limits.logins``)."""

    seconds: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        data = request.data
        username = data.get("username") if hasattr(data, "get") else None
        attempt = count_attempt(request.META, username)
        self.seconds = attempt.wait
        return attempt.allowed

    def wait(self) -> float | None:
        return self.seconds


class WriteThrottle(BaseThrottle):
    """Writes per user (reads are never throttled); anonymous writes are refused before this."""

    scope = "writes"
    seconds: int | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = settings.WATERCOOLER_THROTTLE_RATES.get(self.scope)
        if request.method in SAFE_METHODS or rate is None:
            return True
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = client_key(request.META)
        verdict = count(self.scope, ident, Rate.parse(rate))
        self.seconds = verdict.wait
        return verdict.allowed

    def wait(self) -> float | None:
        return self.seconds
