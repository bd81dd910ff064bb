"""Tickets, hook tokens, resume tokens and TURN credentials, without sockets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import warnings

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from signaling.config import Settings
from signaling.errors import HookRejected, TicketRejected
from signaling.ice import ice_servers_for
from signaling.tickets import (
    ReplayGuard,
    derive_key,
    mint_hook_token,
    mint_ticket,
    peer_from_resume_token,
    resume_token,
    verify_hook,
    verify_ticket,
)

SECRET = "unit-secret-" + "y" * 20


def test_a_good_ticket_yields_its_claims() -> None:
    claims = verify_ticket(
        mint_ticket(SECRET, sprint="4", user_id="9", name="Kim"), SECRET, time.time()
    )
    assert (claims.sprint, claims.user_id, claims.name) == ("4", "9", "Kim")


def test_ticket_with_none_algorithm_is_refused() -> None:
    token = jwt.encode(
        {"sprint": "1", "sub": "1", "name": "n", "aud": "watercooler/signaling", "exp": 2**40},
        key=None,
        algorithm="none",
    )
    with pytest.raises(TicketRejected, match=r"not signed with HS256|well-formed"):
        verify_ticket(token, SECRET, time.time())


def test_the_secrets_key_checks_run_once_not_per_ticket(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyJWT's checks that the secret is no asymmetric key run when a secret is first used; the
    tickets after that are verified with the key they prepared."""
    checked: list[bytes] = []
    is_der_key = HMACAlgorithm._is_der_key

    def counted(key_bytes: bytes) -> bool:
        checked.append(key_bytes)
        return is_der_key(key_bytes)

    monkeypatch.setattr(HMACAlgorithm, "_is_der_key", staticmethod(counted))
    secret = "a-secret-first-used-here-" + "z" * 20
    for user in ("1", "2", "3"):
        ticket = mint_ticket(secret, sprint="4", user_id=user, name="Kim")
        checked.clear()  # minting checks the key as well
        assert verify_ticket(ticket, secret, time.time()).user_id == user
        assert checked == ([secret.encode()] if user == "1" else [])


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_ticket_signed_with_another_hmac_algorithm_is_refused(algorithm: str) -> None:
    """Same secret, other hash: the prepared HS256 key must not verify it."""
    with warnings.catch_warnings():  # PyJWT warns that the test secret is short for SHA-384/512
        warnings.simplefilter("ignore")
        token = jwt.encode(
            {"sprint": "1", "sub": "1", "name": "n", "aud": "watercooler/signaling", "exp": 2**40},
            key=SECRET,
            algorithm=algorithm,
        )
    with pytest.raises(TicketRejected, match="not signed with HS256"):
        verify_ticket(token, SECRET, time.time())


def test_hook_token_checks_body_and_lifetime() -> None:
    guard = ReplayGuard()
    body = b'{"sprint":"1","event":{}}'
    verify_hook(f"Bearer {mint_hook_token(SECRET, body)}", body, SECRET, guard)
    with pytest.raises(HookRejected, match="body does not match"):
        verify_hook(f"Bearer {mint_hook_token(SECRET, body)}", body + b" ", SECRET, guard)
    with pytest.raises(HookRejected, match="Bearer"):
        verify_hook("Basic abc", body, SECRET, guard)


def test_a_padded_token_is_refused_by_name() -> None:
    """RFC 7515 leaves base64url padding out; a padded copy must not pass as another token."""
    ticket = mint_ticket(SECRET, sprint="4", user_id="9", name="Kim")
    with pytest.raises(TicketRejected, match="padding"):
        verify_ticket(ticket + "=", SECRET, time.time())
    body = b'{"sprint":"1","event":{}}'
    with pytest.raises(HookRejected, match="padding"):
        verify_hook(f"Bearer {mint_hook_token(SECRET, body)}=", body, SECRET, ReplayGuard())


_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_a_hook_token_without_jti_is_single_use_however_its_signature_is_spelled() -> None:
    """A 32-byte signature is 43 characters whose last two bits decoding could ignore: flipping
    one of them spells the same signature differently, and that copy must not pass either (it is
    refused as not canonical base64url)."""
    guard = ReplayGuard()
    body = b'{"sprint":"1","event":{}}'
    token = mint_hook_token(SECRET, body)
    last = _BASE64URL.index(token[-1])
    respelled = token[:-1] + _BASE64URL[last ^ 1]
    signature, other = (s.rpartition(".")[2] + "=" for s in (token, respelled))
    assert respelled != token
    assert base64.urlsafe_b64decode(signature) == base64.urlsafe_b64decode(other)
    verify_hook(f"Bearer {token}", body, SECRET, guard)
    with pytest.raises(HookRejected, match=r"replay|well-formed"):
        verify_hook(f"Bearer {respelled}", body, SECRET, guard)


def test_iat_a_little_ahead_of_this_clock_is_accepted_far_ahead_refused() -> None:
    """The board's host may run a little ahead of ours; a minute is tolerated, no more."""
    now = time.time()
    close = mint_ticket(SECRET, sprint="4", user_id="9", name="Kim", iat=int(now) + 20)
    assert verify_ticket(close, SECRET, now).user_id == "9"
    body = b'{"sprint":"1","event":{}}'
    hook = mint_hook_token(SECRET, body, iat=int(now) + 20)
    verify_hook(f"Bearer {hook}", body, SECRET, ReplayGuard())
    far = mint_ticket(SECRET, sprint="4", user_id="9", name="Kim", iat=int(now) + 600)
    with pytest.raises(TicketRejected, match="not yet valid"):
        verify_ticket(far, SECRET, now)


def test_replay_guard_forgets_expired_entries() -> None:
    now = [1000.0]
    guard = ReplayGuard(clock=lambda: now[0])
    assert guard.check_and_remember("a", expires=1010)
    assert not guard.check_and_remember("a", expires=1010)
    now[0] = 1011
    assert guard.check_and_remember("a", expires=1040)  # expired entries no longer block


def test_resume_tokens_are_bound_to_sprint_user_and_peer() -> None:
    key = derive_key(SECRET, "resume")
    token = resume_token(key, sprint="1", user_id="u", peer="abc")
    assert peer_from_resume_token(key, token, sprint="1", user_id="u") == "abc"
    assert peer_from_resume_token(key, token, sprint="2", user_id="u") is None
    assert peer_from_resume_token(key, token, sprint="1", user_id="v") is None
    forged = "xyz." + token.split(".", 1)[1]
    assert peer_from_resume_token(key, forged, sprint="1", user_id="u") is None
    assert (
        peer_from_resume_token(derive_key(SECRET, "other"), token, sprint="1", user_id="u") is None
    )
    assert peer_from_resume_token(key, "no-dot", sprint="1", user_id="u") is None


def test_turn_credentials_follow_coturns_rest_scheme() -> None:
    settings = Settings(
        secret=SECRET,
        ice_servers=("stun:stun.example.org:3478",),
        turn_urls=("turn:turn.example.org:3478",),
        turn_secret="coturn-secret",
        turn_ttl=600,
    )
    stun, turn = ice_servers_for(settings, "42", now=1_000_000)
    assert stun == {"urls": "stun:stun.example.org:3478"}
    assert turn["username"] == "1000600:42"
    expected = base64.b64encode(
        hmac.new(b"coturn-secret", b"1000600:42", hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
    assert turn["urls"] == ["turn:turn.example.org:3478"]
