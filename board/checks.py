"""The board's own checks for ``manage.py check --deploy``, next to Django's security checks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

UNENCRYPTED = {"ws", "http"}


@register(Tags.security, deploy=True)
def check_signaling_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A deployment's browsers must reach signaling over TLS, as they reach the board."""
    url = settings.WATERCOOLER_SIGNALING_URL
    if urlsplit(url).scheme not in UNENCRYPTED:
        return []
    return [
        CheckWarning(
            f"WATERCOOLER_SIGNALING_URL ({url}) is not encrypted: tickets and board changes would "
            "cross the network in clear text, and browsers refuse ws:// from an https:// page.",
            hint="Serve signaling behind TLS and use a wss:// URL (docs/operations.md).",
            id="watercooler.W001",
        )
    ]
