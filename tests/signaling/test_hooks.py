"""``POST /hooks/board``: authenticated, body-bound, single-use, delivered to one sprint only."""

from __future__ import annotations

import json
import logging
import time

import jwt
import pytest

from signaling.tickets import HOOK_AUDIENCE, mint_hook_token
from tests.signaling.conftest import SECRET, Harness, expect_nothing_pending, receive_type

EVENT = {"model": "task", "action": "updated", "task": {"id": 3, "version": 4, "status": "done"}}


def hook_body(sprint: object = "1", event: object = EVENT) -> bytes:
    return json.dumps({"sprint": sprint, "event": event}).encode()


async def post_hook(harness: Harness, body: bytes, token: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await harness.client.post("/hooks/board", data=body, headers=headers)
    return response.status, await response.json()


async def test_hook_is_delivered_to_the_sprints_peers_only(harness: Harness) -> None:
    alice, _ = await harness.join("1", "u1")
    bob, _ = await harness.join("1", "u2")
    other, _ = await harness.join("2", "u3")
    await receive_type(alice, "peer-joined")
    body = hook_body("1")
    status, answer = await post_hook(harness, body, mint_hook_token(SECRET, body))
    assert (status, answer) == (202, {"delivered": 2})
    for ws in (alice, bob):
        assert await receive_type(ws, "event") == {"type": "event", "event": EVENT}
    await expect_nothing_pending(other)


async def test_integer_sprint_is_read_as_its_string(harness: Harness) -> None:
    alice, _ = await harness.join("12", "u1")
    body = hook_body(12)
    status, _ = await post_hook(harness, body, mint_hook_token(SECRET, body))
    assert status == 202
    assert (await receive_type(alice, "event"))["event"] == EVENT


async def test_hook_refusals(harness: Harness) -> None:
    alice, _ = await harness.join("1", "u1")
    body = hook_body("1")
    cases = {
        "missing": (None, "Authorization header missing"),
        "bad signature": (mint_hook_token("another-secret-that-is-long-enough", body), "signature"),
        "body changed": (mint_hook_token(SECRET, hook_body("1", {"x": 1})), "body does not match"),
        "expired": (mint_hook_token(SECRET, body, ttl=-5), "expired"),
        "too far ahead": (mint_hook_token(SECRET, body, ttl=3600), "more than 60 s ahead"),
        "wrong audience": (
            jwt.encode(
                {
                    "aud": "watercooler/signaling",
                    "exp": int(time.time()) + 30,
                    "body_sha256": "00",
                },
                SECRET,
            ),
            "another audience",
        ),
        "no body hash": (
            jwt.encode({"aud": HOOK_AUDIENCE, "exp": int(time.time()) + 30}, SECRET),
            "body_sha256",
        ),
    }
    for name, (token, reason) in cases.items():
        status, answer = await post_hook(harness, body, token)
        assert status == 401, name
        assert reason in answer["error"], (name, answer)
    await expect_nothing_pending(alice)
    text = await (await harness.client.get("/metrics")).text()
    assert f'watercooler_hook_events_total{{result="rejected"}} {float(len(cases))}' in text


async def test_a_replayed_hook_is_refused(harness: Harness) -> None:
    alice, _ = await harness.join("1", "u1")
    body = hook_body("1")
    token = mint_hook_token(SECRET, body, jti="event-1")
    assert (await post_hook(harness, body, token))[0] == 202
    await receive_type(alice, "event")
    status, answer = await post_hook(harness, body, token)
    assert status == 401
    assert "replay" in answer["error"]
    await expect_nothing_pending(alice)
    # Without a jti, the token itself is single-use.
    plain = mint_hook_token(SECRET, body)
    assert (await post_hook(harness, body, plain))[0] == 202
    assert (await post_hook(harness, body, plain))[0] == 401


async def test_authenticated_but_malformed_body_gets_400(harness: Harness) -> None:
    for body in (
        b"not json",
        b"[]",
        b'{"event":{}}',
        b'{"sprint":"1"}',
        b'{"sprint":true,"event":{}}',
    ):
        status, answer = await post_hook(harness, body, mint_hook_token(SECRET, body))
        assert status == 400, body
        assert "hook body" in answer["error"]


async def test_oversized_hook_body_gets_413(harness: Harness) -> None:
    body = hook_body("1", {"blob": "x" * 300_000})
    status, answer = await post_hook(harness, body, mint_hook_token(SECRET, body))
    assert status == 413
    assert "larger than" in answer["error"]


async def test_an_event_that_cannot_be_sent_on_gets_400_naming_the_fault(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Legal JSON that no websocket frame can carry: a lone surrogate escape (not Unicode text)
    or an integer past 64 bits. The board's fault, answered 400 in words, not a 500 and an
    ERROR traceback; the sprint's peers hear nothing."""
    alice, _ = await harness.join("1", "u1")
    cases = {
        b'{"sprint":"1","event":{"title":"\\ud800"}}': "surrogate",
        b'{"sprint":"1","event":{"n":123456789012345678901234567890}}': "64-bit",
    }
    with caplog.at_level(logging.WARNING):
        for body, fault in cases.items():
            status, answer = await post_hook(harness, body, mint_hook_token(SECRET, body))
            assert status == 400, body
            assert "hook event" in answer["error"]
            assert fault in answer["error"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await expect_nothing_pending(alice)
