"""The conformance cases of tests/protocol_fixtures/ against peer_client/protocol.py.

Every verdict and normalised form, for a frame and for a relay's ``data`` object, and that what
we send is held to the same rules. tests/web/conformance.test.mjs runs the same cases against the
browser's protocol module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from peer_client import protocol
from peer_client.protocol import MessageRejected, Received

FIXTURES = Path(__file__).resolve().parents[1] / "protocol_fixtures"


def load_cases() -> list[Any]:
    cases = []
    for path in sorted(FIXTURES.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            cases.append(pytest.param(case, id=f"{path.name}: {case['name']}"))
    return cases


CASES = load_cases()


def message_of(case: dict[str, Any]) -> dict[str, Any]:
    message = dict(case["message"])
    if case.get("pad"):
        message["pad"] = case["pad_char"] * case["pad"]
    return message


def inputs(case: dict[str, Any]) -> list[str | bytes | dict[str, Any]]:
    """What the case looks like on the channel (and, for an object, through the relay)."""
    if case.get("binary"):
        return [b"{}"]
    if "frame" in case:
        return [case["frame"]]
    message = message_of(case)
    return [json.dumps(message, ensure_ascii=False), message]


def test_the_fixture_set_is_there_with_every_verdict() -> None:
    verdicts = {param.values[0]["verdict"] for param in CASES}
    assert len(CASES) > 100
    assert verdicts == {"valid", "invalid", "ignored"}


@pytest.mark.parametrize("case", CASES)
def test_conformance_case(case: dict[str, Any]) -> None:
    for raw in inputs(case):
        parsed = protocol.parse_message(raw)
        via = "relay" if isinstance(raw, dict) else "frame"
        if case["verdict"] == "valid":
            assert isinstance(parsed, Received), f"{via}: {parsed}"
            normalised = {"type": parsed.message.type, "id": parsed.id, **parsed.message.fields()}
            assert normalised == case["normalised"], via
        elif case["verdict"] == "ignored":
            assert parsed is None, f"{via}: {parsed}"
        else:
            assert isinstance(parsed, MessageRejected), f"{via}: accepted {parsed}"
            assert case["names"] in parsed.reason, f"{via}: {parsed.reason!r}"
    if case["verdict"] == "valid":
        # What we send is the normalised form, unchanged.
        assert protocol.check_outgoing(case["normalised"]) == case["normalised"]
    elif "message" in case and not case.get("pad"):
        with pytest.raises(ValueError, match="refusing to send"):
            protocol.check_outgoing(message_of(case))
