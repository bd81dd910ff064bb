"""The board's Content-Security-Policy: the policy built from settings, and the middleware that
sends it.

The policy allows only the board's own scripts, styles, images and fonts, and connections to the
board itself and to the signaling websocket (``WATERCOOLER_SIGNALING_URL``). The browser client
(web/) has no inline script, inline style or ``eval``, so it needs nothing more; a change that
needs more must widen the policy here, visibly, not weaken it in a template.

:func:`content_security_policy` needs nothing from Django, so settings can call it (this module
imports Django only for type checking); the middleware copies the ready header onto responses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


class PolicyError(ValueError):
    """A URL given to the policy is not one a browser may connect to."""


def connect_source(url: str) -> str:
    """``url`` as a CSP source expression: scheme, host, port and path (no query, no fragment).

    Refused (``PolicyError``): anything but a ws, wss, http or https URL with a host, and any URL
    holding whitespace, control characters, ``;`` or ``,``, which would end the source expression
    or the directive inside the header (``wss://x/ws;script-src *`` adds a directive).
    """
    bad = next((c for c in url if c in ";," or c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise PolicyError(f"{url!r} holds {bad!r}: no whitespace, ';' or ',' in this URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not one)
    except ValueError as exc:
        raise PolicyError(f"{url!r} is not a URL: {exc}") from None
    if parts.scheme not in {"ws", "wss", "http", "https"} or not parts.hostname:
        raise PolicyError(f"{url!r} is not a ws://, wss://, http:// or https:// URL with a host")
    if parts.username is not None:
        raise PolicyError(f"{url!r} holds a user name: not allowed in a connect source")
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def content_security_policy(*, signaling_url: str) -> str:
    """The header value for a board whose live client connects to ``signaling_url``."""
    connect = ["'self'", connect_source(signaling_url)]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the page's empty favicon (``<link rel="icon" href="data:,">``), which keeps
        # browsers from requesting /favicon.ico on every page.
        "img-src": ["'self'", "data:"],
        "connect-src": connect,
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds ``settings.CONTENT_SECURITY_POLICY`` to every response (none when it is empty)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        policy: str = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy and HEADER not in response:
            response[HEADER] = policy
        return response
