"""Who is present (peer_client.roster; no sockets): signaling's list and open channels, by name."""

from __future__ import annotations

from peer_client.events import Person
from peer_client.roster import Roster


def introduced(roster: Roster, peer: str, name: str) -> None:
    roster.remember(peer, {"id": f"user-{peer}", "name": name})
    roster.listed.add(peer)


def test_present_is_everyone_else_by_name_and_says_who_arrived() -> None:
    roster = Roster()
    introduced(roster, "p-1", "Zoe")
    introduced(roster, "p-2", "Ann")
    introduced(roster, "us", "Sam")
    change = roster.update([], me="us")
    assert change is not None
    assert roster.present == ("p-2", "p-1"), "by name, ourselves left out"
    assert change.arrived == ["p-2", "p-1"]
    assert change.left == set()
    assert roster.update([], me="us") is None, "nobody came or went"
    assert roster.presence() == {
        "p-2": Person("p-2", "user-p-2", "Ann"),
        "p-1": Person("p-1", "user-p-1", "Zoe"),
    }


def test_an_open_channel_keeps_a_peer_present_while_signaling_does_not_list_it() -> None:
    roster = Roster()
    introduced(roster, "p-bob", "Bob")
    roster.update([], me="us")
    roster.listed = set()  # a welcome after signaling came back, before Bob rejoined
    assert roster.update(["p-bob"], me="us") is None
    assert roster.present == ("p-bob",)
    change = roster.update([], me="us")
    assert change is not None
    assert change.left == {"p-bob"}
    assert roster.present == ()


def test_a_person_signaling_never_named_is_shown_by_peer_id() -> None:
    roster = Roster()
    roster.remember("0123456789abcdef", "not a user object")
    assert roster.person("0123456789abcdef") == Person("0123456789abcdef", "", "01234567")
    roster.remember("0123456789abcdef", {"id": 7, "name": "Dana"})
    assert roster.person("0123456789abcdef") == Person("0123456789abcdef", "7", "Dana")
