"""An internal error handling one client's message is one ERROR line that names that connection
(number, peer id, address) and nothing else it holds, on every transport."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.signaling.conftest import HarnessFactory, receive_close, receive_type


async def test_the_error_line_names_the_connection_and_nothing_it_holds(
    harness_factory: HarnessFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    harness = await harness_factory()
    core = harness.service.core
    real = core.receive

    def buggy(session: Any, text: str, now: float) -> Any:
        if "boom" in text:
            raise RuntimeError("simulated bug")
        return real(session, text, now)

    monkeypatch.setattr(core, "receive", buggy)
    secret_name = "Zelda Secretname " + "z" * 200
    alice, _ = await harness.join("1", "u1", secret_name)
    bob, welcome = await harness.join("1", "u2", "Bob Othername")
    await receive_type(alice, "peer-joined")
    with caplog.at_level(logging.ERROR):
        await bob.send_json({"type": "signal", "to": "x", "data": {"boom": 1}})
        assert await receive_close(bob) == 1011
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    message = record.getMessage()
    assert f"peer {welcome['peer']}" in message
    assert "address '127.0.0.1'" in message
    assert "connection " in message
    for held in ("Zelda", "Othername", "u1", "claims", "Session("):
        assert held not in message, message
    assert len(message) < 200
    assert record.exc_info is not None  # the traceback is kept for us to read
