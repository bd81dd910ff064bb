"""Tickets and hook tokens as the session core judges them: at the time it is given, never a clock
of its own, with an ``exp`` that really ends and claims that can be sent on as UTF-8."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from signaling.errors import HookRejected
from signaling.session import CLOSING
from signaling.tickets import (
    HOOK_AUDIENCE,
    TICKET_AUDIENCE,
    ReplayGuard,
    mint_hook_token,
    verify_hook,
)
from tests.signaling.core_driver import SECRET, CoreDriver, ticket


def signed(payload: str, secret: str = SECRET) -> str:
    """A JWT whose payload is exactly the JSON text given (with what PyJWT's own encoder would
    never write: ``Infinity``, ``1e400``, lone surrogate escapes)."""

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = part(b'{"alg":"HS256","typ":"JWT"}') + "." + part(payload.encode())
    signature = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
    return f"{head}.{part(signature)}"


def claims_json(**fields: object) -> str:
    claims = {"sprint": "1", "sub": "u9", "name": "Eve", "aud": TICKET_AUDIENCE}
    claims["exp"] = int(time.time()) + 600
    claims.update(fields)
    return json.dumps(claims)


def join_with(d: CoreDriver, token: str) -> tuple[int | None, str]:
    session = d.open()
    d.send(session, {"type": "join", "ticket": token})
    code, reason = d.closes.get(session.number, (None, ""))
    return code, reason


# --- the core's time, not the machine's -------------------------------------------------------


@pytest.mark.parametrize("real_clock_is", ["behind", "ahead"])
def test_a_ticket_expires_at_the_wall_time_the_core_is_given(real_clock_is: str) -> None:
    """The core's wall time is set far from the machine's; the ticket's expiry follows the core,
    whichever way the machine's clock would have judged it."""
    d = CoreDriver()
    wall = time.time() + (100_000 if real_clock_is == "behind" else -100_000)
    d.core.set_wall_clock(wall, d.now)
    token = ticket(sprint="1", user="u1", exp=int(wall) + 30)
    assert join_with(d, token) == (None, "")
    d.advance(31)
    assert join_with(d, ticket(sprint="1", user="u2", exp=int(wall) + 30)) == (
        4401,
        "ticket expired",
    )


def test_a_hook_token_expires_at_the_time_its_check_is_given() -> None:
    body = b'{"sprint":"1","event":{}}'
    token = mint_hook_token(SECRET, body, ttl=30)
    expires = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["exp"]
    verify_hook(f"Bearer {token}", body, SECRET, ReplayGuard(), clock=lambda: expires - 1)
    with pytest.raises(HookRejected, match="expired"):
        verify_hook(f"Bearer {token}", body, SECRET, ReplayGuard(), clock=lambda: expires + 1)
    # Judged at its clock, a token that is still valid by the machine's time has expired.
    with pytest.raises(HookRejected, match="expired"):
        verify_hook(
            f"Bearer {mint_hook_token(SECRET, body, ttl=30)}",
            body,
            SECRET,
            ReplayGuard(),
            clock=lambda: time.time() + 3600,
        )


# --- an exp that never comes ------------------------------------------------------------------


@pytest.mark.parametrize("exp", ["Infinity", "1e400", "-Infinity", "NaN"])
def test_a_ticket_whose_exp_is_not_finite_is_refused_with_4401(exp: str) -> None:
    d = CoreDriver()
    payload = claims_json(exp="EXP").replace('"EXP"', exp)
    code, reason = join_with(d, signed(payload))
    assert code == 4401
    assert '"exp"' in reason
    assert d.core.rooms.peer_count == 0


@pytest.mark.parametrize("exp", ["Infinity", "1e400"])
def test_a_hook_token_whose_exp_is_not_finite_is_refused(exp: str) -> None:
    body = b'{"sprint":"1","event":{}}'
    digest = hashlib.sha256(body).hexdigest()
    payload = json.dumps({"aud": HOOK_AUDIENCE, "exp": "EXP", "body_sha256": digest})
    token = signed(payload.replace('"EXP"', exp))
    with pytest.raises(HookRejected, match='"exp" must be a finite number'):
        verify_hook(f"Bearer {token}", body, SECRET, ReplayGuard())


# --- claims that cannot be sent on ------------------------------------------------------------


@pytest.mark.parametrize("claim", ["name", "sub", "sprint"])
@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "x\\udc00y"])
def test_a_lone_surrogate_in_a_claim_is_refused_with_4401_before_joining(
    claim: str, escape: str
) -> None:
    """JSON may escape half a surrogate pair; the ticket is refused as a claims fault, and the
    sprint hears nothing of a peer that never joined."""
    d = CoreDriver()
    bystander, _ = d.join("1", "u1", "Ann")
    d.take(bystander)
    payload = claims_json(**{claim: "SURROGATE"}).replace('"SURROGATE"', f'"{escape}"')
    session = d.open()
    d.send(session, {"type": "join", "ticket": signed(payload)})
    code, reason = d.closes[session.number]
    assert code == 4401
    assert f'claim "{claim}"' in reason
    assert "surrogate" in reason
    assert session.state is CLOSING
    assert session.member is None
    d.close(session, close_code=4401)
    assert d.take(bystander) == []
    assert d.core.rooms.peer_count == 1


def test_a_surrogate_pair_escape_is_a_good_name() -> None:
    d = CoreDriver()
    payload = claims_json(name="PAIR").replace('"PAIR"', '"Ann \\ud83d\\ude00"')
    session = d.open()
    d.send(session, {"type": "join", "ticket": signed(payload)})
    member = d.core.rooms.member(d.welcome(session)["peer"])
    assert member is not None
    assert member.name == "Ann \U0001f600"
