"""The conformance cases of tests/protocol_fixtures/ against peer_client/protocol.py.

Every verdict and normalised form, for a frame and for the signaling frame that relays it, and
that what we send is held to the same rules. tests/web/conformance.test.mjs runs the same cases
against the browser's protocol module.
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


RELAY_HEAD = '{"type":"relay","from":"PPPPPPPPPPPPPPPP","data":'
"""The start of the signaling frame that relays a message from peer ``PPPPPPPPPPPPPPPP``."""

Parsed = Received | MessageRejected | None


def joined(parts: list[tuple[str, int]]) -> str:
    """Texts given as ``[[text, times], ...]``, concatenated."""
    return "".join(text * times for text, times in parts)


def frame_of(case: dict[str, Any]) -> str | bytes:
    if case.get("binary"):
        return b"{}"
    if "frame" in case:
        return str(case["frame"])
    if "frame_parts" in case:
        return joined(case["frame_parts"])
    return json.dumps(message_of(case), ensure_ascii=False)


def verdicts(case: dict[str, Any]) -> list[tuple[str, Parsed]]:
    """What the case looks like on the channel and, but for the size cases, through the relay
    (the frame inside the signaling frame that carries it); a relay case only through the relay."""
    if "relay_frame" in case or "relay_parts" in case:
        relay = case.get("relay_frame") or joined(case["relay_parts"])
        return [("relay", protocol.parse_relayed(relay))]
    frame = frame_of(case)
    out: list[tuple[str, Parsed]] = [("frame", protocol.parse_message(frame))]
    if isinstance(frame, str) and not case.get("pad"):
        out.append(("relay", protocol.parse_relayed(f"{RELAY_HEAD}{frame}}}")))
    return out


def test_the_fixture_set_is_there_with_every_verdict() -> None:
    verdicts = {param.values[0]["verdict"] for param in CASES}
    assert len(CASES) > 100
    assert verdicts == {"valid", "invalid", "ignored"}


@pytest.mark.parametrize("case", CASES)
def test_conformance_case(case: dict[str, Any]) -> None:
    for via, parsed in verdicts(case):
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
