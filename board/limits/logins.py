"""The limits on password guessing, for every way in: ``POST /api/token/`` and the login pages.

An attempt is counted first against the client's address (``THROTTLE_TOKEN_PER_ADDRESS``, the
``token-address`` rate), then, only if the address is within its limit, against the username tried
(``THROTTLE_TOKEN_PER_USERNAME``, ``token-username``): a client already refused for its address
adds nothing more, however many usernames it tries. Both counts are shared by all the ways in, so
an address or an account has one budget of guesses, wherever they are made.

Usernames are counted as a digest of their text, stripped, NFKC-normalized and case-folded (so
" ADA" is "ada"); a number is counted as its text, as the serializer reads it.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from board.limits.clients import client_key
from board.limits.counting import Rate, Verdict, count, uncount

ADDRESS_SCOPE = "token-address"
USERNAME_SCOPE = "token-username"
REFUSED = "Too many login attempts"


@dataclass
class Attempt:
    """A counted login attempt: allowed, or refused with the seconds to wait."""

    allowed: bool = True
    wait: int | None = None
    counted: list[Verdict] = field(default_factory=list)


def username_key(username: object) -> str | None:
    """The key a username is counted by; None for no username (nothing to count)."""
    if isinstance(username, bool) or not isinstance(username, str | int | float):
        return None
    text = unicodedata.normalize("NFKC", str(username)).strip().casefold()
    if not text:
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def count_attempt(meta: Mapping[str, Any], username: object) -> Attempt:
    """Count one login attempt from the request with ``meta`` at ``username``."""
    rates: dict[str, str | None] = settings.WATERCOOLER_THROTTLE_RATES
    attempt = Attempt()
    for scope, ident in (
        (ADDRESS_SCOPE, client_key(meta)),
        (USERNAME_SCOPE, username_key(username)),
    ):
        rate = rates.get(scope)
        if rate is None or ident is None:
            continue
        verdict = count(scope, ident, Rate.parse(rate))
        attempt.counted.append(verdict)
        if not verdict.allowed:
            attempt.allowed, attempt.wait = False, verdict.wait
            break
    return attempt


def take_back(attempt: Attempt) -> None:
    """Uncount an attempt that turned out not to be a guess (the password was right)."""
    for verdict in attempt.counted:
        uncount(verdict)


def refusal(wait: int | None) -> str:
    """The message of a refused attempt."""
    if wait is None:
        return f"{REFUSED}; try again later."
    return f"{REFUSED}; try again in {wait} {'second' if wait == 1 else 'seconds'}."
