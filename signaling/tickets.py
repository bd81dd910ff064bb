"""Signed tokens: sprint tickets, hook tokens and resume tokens. No I/O.

- A **ticket** (JWT, HS256, audience ``watercooler/signaling``) is minted by the board and lets its
  holder join one sprint as one user.
- A **hook token** (JWT, HS256, audience ``watercooler/hook``) authenticates one board event: it
  covers the exact body bytes (``body_sha256``), expires at most 60 s ahead and is single-use here.
- A **resume token** (HMAC under a key derived for that purpose alone) lets a client that lost its
  socket rejoin with the same peer id; it is bound to the sprint, the user and the peer id.

Every failure raises an exception whose message names the fault in plain words; the caller turns it
into close code 4401 or HTTP 401. Expiry is checked against the ``now`` the caller passes (seconds
since the epoch), never against a clock read here, so the session core decides with its own time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import jwt
from jwt.algorithms import HMACAlgorithm

from signaling.errors import HookRejected, TicketRejected

TICKET_AUDIENCE: Final = "watercooler/signaling"
HOOK_AUDIENCE: Final = "watercooler/hook"
HOOK_MAX_LIFETIME_SECONDS: Final = 60
ALGORITHMS: Final = ["HS256"]
MAX_TICKET_LENGTH: Final = 8192
# How far ahead of this host's clock a token's "iat" or "nbf" may lie: the board that minted it
# may run on another host whose clock leads ours a little.
CLOCK_LEEWAY_SECONDS: Final = 60


@dataclass(frozen=True, slots=True)
class TicketClaims:
    """Who a verified ticket lets in, and where."""

    sprint: str
    user_id: str
    name: str
    expires: float


def verify_ticket(token: object, secret: str, now: float) -> TicketClaims:
    """Check a sprint ticket (as the client sent it) at wall-clock time ``now`` and return its
    claims, or raise :class:`TicketRejected` naming the fault."""
    if token is None:
        raise TicketRejected("ticket missing")
    if not isinstance(token, str):
        raise TicketRejected(f"ticket must be a string, got {_json_kind(token)}")
    if not token:
        raise TicketRejected("ticket is empty")
    if len(token) > MAX_TICKET_LENGTH:
        raise TicketRejected(f"ticket is longer than {MAX_TICKET_LENGTH} characters")
    payload = _decode(token, secret, TICKET_AUDIENCE, TicketRejected, "ticket", now)
    required = ("sprint", "sub", "name")
    for claim in required:
        if claim not in payload:
            raise TicketRejected(f'ticket has no "{claim}" claim')
    for claim in required:
        if not isinstance(payload[claim], str) or not payload[claim]:
            raise TicketRejected(f'ticket claim "{claim}" must be a non-empty string')
        if not _is_unicode_text(payload[claim]):
            # JSON may escape half a surrogate pair ("\ud800"); such a string cannot be sent on
            # as UTF-8, so no welcome, peer-joined or log line could carry it.
            raise TicketRejected(
                f'ticket claim "{claim}" holds a lone surrogate escape, which is not Unicode text'
            )
    return TicketClaims(
        sprint=payload["sprint"],
        user_id=payload["sub"],
        name=payload["name"][:120],
        expires=float(min(payload["exp"], 1e18)),  # an absurd exp must not overflow a float
    )


def _is_unicode_text(text: str) -> bool:
    """Whether ``text`` can be encoded as UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _json_kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


class _PreparedHS256(HMACAlgorithm):
    """PyJWT's HS256 for one secret, with PyJWT's key checks run once, when it is made.

    PyJWT prepares the key again on every decode, a PyJWK's key included: it makes sure the
    secret is not a PEM, SSH, DER or JWK key, which costs two failed parses by ``cryptography``
    and a failed JSON parse per ticket. This algorithm runs those checks
    (``HMACAlgorithm.prepare_key``) once and hands back their result for that same secret; any
    other key is checked as usual. Signing and verifying are PyJWT's own.
    """

    def __init__(self, secret: bytes) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self.secret = secret
        self._prepared = super().prepare_key(secret)

    def prepare_key(self, key: str | bytes) -> bytes:
        return self._prepared if key is self.secret else super().prepare_key(key)


@functools.lru_cache(maxsize=4)
def _verifier(secret: str) -> tuple[jwt.PyJWT, bytes]:
    """A PyJWT decoder that knows HS256 alone, with ``secret`` prepared once, and the key to
    pass it (docs/benchmarks.md, History).

    Its options are fixed here: ``exp`` and ``aud`` must be present; both are checked in
    :func:`_decode`, more strictly than PyJWT does (it reads "9999" and true as times, and takes a
    list that holds the audience). PyJWT's other claim checks (``nbf``, ``iat``, ``sub``, ``jti``
    when present) run as with ``jwt.decode``.
    """
    algorithm = _PreparedHS256(secret.encode())
    decoder = jwt.PyJWT(
        options={"require": ["exp", "aud"], "verify_exp": False, "verify_aud": False}
    )
    # PyJWT signs and verifies through its PyJWS; this one is PyJWT's own with nothing but the
    # prepared HS256 registered, so a token of any other algorithm is refused as before.
    signatures = jwt.PyJWS(algorithms=[])
    signatures.register_algorithm("HS256", algorithm)
    decoder._jws = signatures
    return decoder, algorithm.secret


def _decode(
    token: str,
    secret: str,
    audience: str,
    error: type[TicketRejected] | type[HookRejected],
    what: str,
    now: float,
) -> dict[str, Any]:
    """The verified payload of ``token``, its ``exp`` compared with ``now``, or ``error``."""
    if "=" in token:
        # RFC 7515 section 2: base64url without padding. PyJWT would accept it, and a padded copy
        # of a token must not pass as a different token.
        raise error(f'{what} is not a well-formed JWT (base64url padding "=" is not allowed)')
    decoder, key = _verifier(secret)
    try:
        payload: dict[str, Any] = decoder.decode(
            token, key, algorithms=ALGORITHMS, leeway=CLOCK_LEEWAY_SECONDS
        )
    except jwt.InvalidAudienceError:
        raise error(f'{what} is for another audience (expected "{audience}")') from None
    except jwt.MissingRequiredClaimError as exc:
        raise error(f'{what} has no "{exc.claim}" claim') from None
    except jwt.InvalidSignatureError:
        raise error(f"{what} signature does not verify") from None
    except jwt.InvalidAlgorithmError:
        raise error(f"{what} is not signed with HS256") from None
    except jwt.DecodeError:
        raise error(f"{what} is not a well-formed JWT") from None
    except jwt.InvalidTokenError as exc:
        raise error(f"{what} is invalid: {exc}") from None
    expires = payload["exp"]
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise error(f'{what} claim "exp" must be a number (seconds since the epoch)')
    if isinstance(expires, float) and not math.isfinite(expires):
        # PyJWT's JSON reads NaN, Infinity and 1e400 (as infinity): a token that never expires.
        raise error(f'{what} claim "exp" must be a finite number (seconds since the epoch)')
    if expires <= now:
        raise error(f"{what} expired")
    if payload["aud"] != audience:
        raise error(f'{what} is for another audience (expected "{audience}")')
    return payload


class ReplayGuard:
    """Remembers hook tokens until they expire, so each is accepted once on this instance.

    Memory is bounded by the rate of hooks times their lifetime (at most 60 s); entries are
    dropped as soon as they expire.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def check_and_remember(self, key: str, expires: float) -> bool:
        """True if ``key`` is new (and now remembered); False if it was seen before."""
        now = self._clock()
        if len(self._seen) > 1000:
            self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
        if key in self._seen and self._seen[key] > now:
            return False
        self._seen[key] = expires
        return True


def verify_hook(
    authorization: str | None,
    body: bytes,
    secret: str,
    replay_guard: ReplayGuard,
    clock: Callable[[], float] = time.time,
) -> None:
    """Check a hook request's ``Authorization`` header against its body, or raise HookRejected.

    ``clock`` is read once: expiry and the lifetime bound are both judged at that time."""
    if not authorization:
        raise HookRejected("Authorization header missing")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HookRejected('Authorization header must be "Bearer <token>"')
    token = token.strip()
    now = clock()
    payload = _decode(token, secret, HOOK_AUDIENCE, HookRejected, "hook token", now)
    expires = float(min(payload["exp"], 1e18))
    if expires - now > HOOK_MAX_LIFETIME_SECONDS:
        raise HookRejected(
            f"hook token expires more than {HOOK_MAX_LIFETIME_SECONDS} s ahead; mint it per request"
        )
    claimed = payload.get("body_sha256")
    if not isinstance(claimed, str):
        raise HookRejected('hook token has no "body_sha256" claim')
    if not hmac.compare_digest(claimed.lower(), hashlib.sha256(body).hexdigest()):
        raise HookRejected("body does not match the token's body_sha256 (changed in transit?)")
    jti = payload.get("jti")
    if isinstance(jti, str) and jti:
        key = f"jti:{jti}"
    else:
        key = "token:" + hashlib.sha256(token.encode()).hexdigest()
    if not replay_guard.check_and_remember(key, expires):
        raise HookRejected("hook token already used (replay)")


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose only, so a token of one kind can never pass as another."""
    return hmac.new(secret.encode(), f"watercooler/{purpose}".encode(), hashlib.sha256).digest()


def resume_token(key: bytes, *, sprint: str, user_id: str, peer: str) -> str:
    """Token that lets ``user_id`` reclaim ``peer`` in ``sprint`` after a dropped socket."""
    return f"{peer}.{_resume_mac(key, sprint, user_id, peer)}"


def peer_from_resume_token(key: bytes, token: str, *, sprint: str, user_id: str) -> str | None:
    """The peer id a resume token names, if it was issued for this sprint and user; else None."""
    peer, dot, mac = token.rpartition(".")
    if not dot or not peer:
        return None
    if not hmac.compare_digest(mac, _resume_mac(key, sprint, user_id, peer)):
        return None
    return peer


def _resume_mac(key: bytes, sprint: str, user_id: str, peer: str) -> str:
    message = "\x1f".join((sprint, user_id, peer)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def mint_ticket(
    secret: str, *, sprint: str, user_id: str, name: str, ttl: float = 300.0, **extra: Any
) -> str:
    """Mint a ticket as the board does (used by tests, benchmarks and the development tools)."""
    claims = {
        "sprint": sprint,
        "sub": user_id,
        "name": name,
        "aud": TICKET_AUDIENCE,
        "exp": int(time.time() + ttl),
        **extra,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def mint_hook_token(secret: str, body: bytes, *, ttl: float = 30.0, **extra: Any) -> str:
    """Mint a hook token for ``body`` as the board does (tests, benchmarks, tools)."""
    claims = {
        "aud": HOOK_AUDIENCE,
        "exp": int(time.time() + ttl),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        **extra,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
