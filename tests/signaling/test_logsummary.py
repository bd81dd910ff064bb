"""The story a log tells: pairs without joins, pairs that end, offers that go unanswered, and a
followed log that forgets what ended long ago."""

from __future__ import annotations

from datetime import timedelta

from signaling.logreader import parse_line
from signaling.logsummary import Story
from tests.signaling.log_lines import human


def read(story: Story, *lines: str) -> list[str]:
    """Add the lines; the sprint and peers of each pair whose verdict changed, in order."""
    told = []
    for line in lines:
        entry = parse_line(line)
        assert entry is not None, line
        told += [f"{pair.a}-{pair.b}" for _, pair in story.add(entry)]
    return told


def test_a_log_that_begins_after_the_joins_still_has_its_pairs_and_learns_names_on_leave() -> None:
    story = Story()
    read(
        story,
        human.link(1, "AAA", "BBB", "relayed", path="signaling"),
        human.leave(2, "BBB", "Bo"),
    )
    (pair,) = story.pairs_in("7")
    assert (pair.a, pair.b, pair.outcome) == ("AAA", "BBB", "relayed")
    assert pair.ended is not None
    assert pair.ended[0] == "BBB"
    (stay,) = story.stays_of("7")
    assert (stay.name, stay.joined, stay.reason) == ("Bo", None, "closed (1001)")
    assert story.names["BBB"] == "Bo"


def test_a_pair_ends_with_its_first_peer_to_leave_and_a_new_offer_starts_it_again() -> None:
    story = Story()
    told = read(
        story,
        human.join(0, "AAA", "Ann"),
        human.join(1, "BBB", "Bo"),
        human.signal(2, "BBB", "AAA", "offer", "host"),
        human.signal(3, "AAA", "BBB", "answer", "host"),
        human.link(4, "AAA", "BBB", "relayed", path="signaling"),
        human.leave(5, "BBB", "Bo"),
        human.leave(6, "AAA", "Ann"),
    )
    assert told == ["AAA-BBB", "AAA-BBB"]  # relayed, then ended (it had an outcome)
    (pair,) = story.pairs_in("7")
    assert pair.ended is not None
    assert pair.ended[0] == "BBB"
    read(story, human.join(7, "BBB", "Bo"), human.signal(8, "BBB", "AAA", "offer", "host"))
    assert pair.ended is None
    assert (pair.outcome, pair.answered) == (None, None)


def test_an_unanswered_offer_is_told_once_when_its_time_is_up_even_with_no_new_line() -> None:
    story = Story(no_answer_seconds=10)
    told = read(
        story,
        human.join(0, "AAA", "Ann"),
        human.join(1, "BBB", "Bo"),
        human.signal(2, "BBB", "AAA", "offer", "host"),
    )
    assert told == []
    assert story.now is not None
    assert story.advance(story.now + timedelta(seconds=9)) == []
    ((when, pair),) = story.advance(story.now + timedelta(seconds=2))
    assert (pair.a, pair.b) == ("AAA", "BBB")
    assert pair.offered is not None
    assert when == pair.offered + timedelta(seconds=10)
    assert story.advance(story.now + timedelta(seconds=60)) == []  # told once


def test_an_answered_offer_is_never_told_as_unanswered() -> None:
    story = Story(no_answer_seconds=10)
    read(
        story,
        human.signal(2, "BBB", "AAA", "offer", "host"),
        human.signal(3, "AAA", "BBB", "answer", "host"),
    )
    assert story.now is not None
    assert story.advance(story.now + timedelta(seconds=60)) == []


def test_following_keeps_a_bounded_number_of_ended_stays_and_pairs() -> None:
    story = Story(keep_ended=10)
    read(story, human.join(0, "HOST", "Host"))
    for n in range(200):
        peer = f"P{n:03d}"
        read(
            story,
            human.join(n + 0.1, peer, f"Guest {n}"),
            human.signal(n + 0.2, peer, "HOST", "offer", "host"),
            human.signal(n + 0.3, "HOST", peer, "answer", "host"),
            human.link(n + 0.4, peer, "HOST", "open", path="host/host"),
            human.leave(n + 0.5, peer, f"Guest {n}"),
        )
    stays = story.stays_of("7")
    pairs = list(story.pairs_in("7"))
    assert len(stays) <= 11  # the host's, and the last ten guests'
    assert len(pairs) <= 10
    assert stays[-1].peer == "P199"
    assert pairs[-1].a == "HOST"
    assert pairs[-1].b == "P199"
    assert len(story.names) <= 11


def test_reading_a_whole_file_keeps_every_stay_and_pair() -> None:
    story = Story()
    for n in range(50):
        peer = f"P{n:03d}"
        read(
            story,
            human.join(n + 0.1, peer, f"Guest {n}"),
            human.link(n + 0.4, peer, "HOST", "open", path="host/host"),
            human.leave(n + 0.5, peer, f"Guest {n}"),
        )
    assert len(story.stays_of("7")) == 50
    assert len(list(story.pairs_in("7"))) == 50


def test_a_shutdown_ends_the_stays_of_its_own_instance_only() -> None:
    story = Story()
    one, two = parse_line(human.join(0, "AAA", "Ann")), parse_line(human.join(1, "BBB", "Bo"))
    stop = parse_line(human.line("shutdown", 2, connections=1))
    assert one is not None
    assert two is not None
    assert stop is not None
    story.add(one, source=0)
    story.add(two, source=1)
    story.add(stop, source=0)
    assert [(s.peer, s.reason) for s in story.stays_of("7")] == [
        ("AAA", "server shutting down"),
        ("BBB", None),
    ]
