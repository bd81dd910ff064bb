"""How people look on the board (peer_client.presence): colours and initials, section 2.5."""

from __future__ import annotations

import json
from pathlib import Path

from peer_client.presence import colour_for, fnv1a_32, initials


def test_colours_and_initials_follow_section_2_5() -> None:
    assert fnv1a_32(b"") == 0x811C9DC5
    assert fnv1a_32(b"a") == 0xE40C292C
    assert colour_for("1") == f"hsl({fnv1a_32(b'1') % 360}, 65%, 45%)"
    assert initials("Dana Demo Smith") == "DD"
    assert initials("sam") == "S"
    assert initials("") == "?"


PEOPLE = Path(__file__).resolve().parents[1] / "protocol_fixtures" / "people" / "people.json"


def test_initials_and_colours_agree_with_the_shared_cases() -> None:
    """The same cases as tests/web/presence.test.mjs: both clients show a person alike."""
    people = json.loads(PEOPLE.read_text(encoding="utf-8"))
    for name, expected in people["initials"]:
        assert initials(name) == expected, name
    for user_id, colour in people["colours"]:
        assert colour_for(user_id) == colour, user_id
