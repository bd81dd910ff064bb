"""The verdicts in words: pairs that ended, their order, hints, odd fields, names as filters, and
the table of docs/operations.md read against what the reader prints."""

from __future__ import annotations

import re
import unicodedata

from signaling.logreader import parse_line
from signaling.logsummary import Story
from signaling.logverdict import report, verdict
from tests.signaling.log_lines import human, json_log
from tests.support.processes import ROOT


def story_of(*lines: str, no_answer: float = 10.0) -> Story:
    story = Story(no_answer_seconds=no_answer)
    for line in lines:
        entry = parse_line(line)
        if entry is not None:
            story.add(entry)
    return story


def pair_lines(text: str) -> list[str]:
    """The verdict lines of the links section(s)."""
    out, inside = [], False
    for line in text.splitlines():
        if not line.startswith(" "):
            inside = False
        elif line == "  links, failures first":
            inside = True
        elif inside and line.startswith("    ") and not line.startswith("      "):
            out.append(line.strip())
    return out


def negotiated(at: float, offerer: str, answerer: str) -> list[str]:
    return [
        human.signal(at, offerer, answerer, "offer", "host"),
        human.signal(at + 0.1, answerer, offerer, "answer", "host"),
    ]


def test_a_pair_whose_peer_left_says_it_ended_and_comes_after_live_problems() -> None:
    story = story_of(
        human.join(0, "AAA", "Ann"),
        human.join(0.5, "BBB", "Bo"),
        human.join(0.7, "CCC", "Cy"),
        human.join(0.8, "DDD", "Dee"),
        *negotiated(1, "BBB", "AAA"),
        human.link(2, "AAA", "BBB", "relayed", path="signaling"),
        *negotiated(3, "CCC", "AAA"),  # then nothing: still connecting... until Cy leaves
        *negotiated(4, "DDD", "AAA"),  # live, no report: a live problem
        human.leave(5, "BBB", "Bo"),
        human.leave(6, "CCC", "Cy"),
    )
    text = report(story)
    lines = pair_lines(text)
    assert lines[0].startswith("Ann (AAA) <-> Dee (DDD): negotiated at 10:00:04.100 but no link")
    assert lines[1] == (
        "Ann (AAA) <-> Bo (BBB): relayed from 10:00:02.000 until Bo (BBB) left at 10:00:05.000: "
        "no direct path had come up (a firewall or NAT between them; a TURN server would give "
        "them one)"
    )
    assert lines[2] == (
        "Ann (AAA) <-> Cy (CCC): negotiated at 10:00:03.100, no link reported before Cy (CCC) "
        "left at 10:00:06.000"
    )
    assert "RELAYED" not in text
    assert text.count("still connecting") == 1


def test_an_open_or_failed_pair_whose_peer_left_says_when_it_ended() -> None:
    story = story_of(
        human.join(0, "AAA", "Ann"),
        human.join(0.5, "BBB", "Bo"),
        *negotiated(1, "BBB", "AAA"),
        human.link(2, "AAA", "BBB", "open", path="host/host", took_ms=48, rtt_ms=1.2),
        human.leave(5, "BBB", "Bo"),
    )
    (line,) = pair_lines(report(story))
    assert line == (
        "Ann (AAA) <-> Bo (BBB): open via host/host in 48 ms, round trip 1.2 ms; ended when "
        "Bo (BBB) left at 10:00:05.000"
    )


def test_a_never_answered_offer_has_no_hint_about_missing_candidates() -> None:
    story = story_of(
        human.join(0, "AAA", "Ann"),
        human.join(0.5, "BBB", "Bo"),
        human.signal(1, "BBB", "AAA", "offer", "host"),
        human.line("ping", 30),
    )
    (line,) = pair_lines(report(story))
    assert line == (
        "Ann (AAA) <-> Bo (BBB): no answer within 10 s: Ann (AAA) never answered the offer of "
        "10:00:01.000 (its client may be stuck, or gone)"
    )


def test_a_blank_reason_leaves_no_dangling_colon() -> None:
    story = story_of(
        *negotiated(1, "BBB", "AAA"),
        human.link(2, "AAA", "BBB", "failed", reason="   "),
    )
    (pair,) = story.pairs_in("7")
    assert verdict(story, pair) == "FAILED at 10:00:02.000"


def test_sections_with_nothing_in_them_are_not_printed() -> None:
    no_joins = report(story_of(human.link(1, "AAA", "BBB", "relayed", path="signaling")))
    assert no_joins.splitlines()[:3] == [
        "sprint 7",
        "  links, failures first",
        "    AAA <-> BBB: RELAYED since 10:00:01.000: no direct path came up (a firewall or NAT "
        "between them; a TURN server would give them one)",
    ]
    alone = report(story_of(human.join(0, "AAA", "Ann")))
    assert (
        alone == "sprint 7\n  who was there\n    Ann (AAA, user ann): 10:00:00.000 - still there\n"
    )


def test_json_fields_of_odd_shapes_are_skipped_not_printed() -> None:
    story = story_of(
        json_log.line("join", 0, sprint=["7"], peer="AAA", user="u", name="Ann"),
        json_log.line("join", 0, sprint="7", peer={"x": 1}, user="u", name="Bo"),
        json_log.link(1, "AAA", "BBB", "open", path="host/host", took_ms="NaN", rtt_ms=-1),
        json_log.link(2, "CCC", "CCC", "open"),
        json_log.link(3, "AAA", "DDD", "bogus"),
    )
    text = report(story)
    assert "['7']" not in text
    assert "{'x'" not in text
    assert "nan" not in text
    assert " ms" not in text
    assert pair_lines(text) == ["AAA <-> BBB: open via host/host"]


def test_peer_takes_part_of_a_display_name_in_any_case_or_an_id_prefix() -> None:
    story = story_of(
        human.join(0, "AAA111", "Ann Lee"),
        human.join(0.5, "BBB222", "Sam Second"),
        human.join(0.7, "CCC333", "Cy"),
        *negotiated(1, "BBB222", "AAA111"),
        *negotiated(2, "CCC333", "AAA111"),
    )
    for wanted in ("sam", "SAM SEC", "BBB"):
        text = report(story, peer=wanted)
        assert [line.split(":")[0] for line in pair_lines(text)] == [
            "Ann Lee (AAA111) <-> Sam Second (BBB222)"
        ], wanted
        assert "Sam Second (BBB222, user sam second)" in text
        assert "Cy (CCC333" not in text
    assert report(story, peer="nobody") == "nothing in this log matches\n"


def test_what_came_from_the_log_is_printed_escaped() -> None:
    evil = "Sam\x1b[2J\x1b[H\n    Mallory (AAAAAA) <-> Ann (BBBBBB): open\u202e\x85\ud800"
    story = story_of(
        human.join(0, "AAA", "Ann"),
        human.join(0.5, "BBB", evil),
        human.signal(1, "BBB", "AAA", "offer\x1b[31m", "host,\x1b[1m"),
        human.link(2, "AAA", "BBB", "failed", reason="ice\x1b[0m"),
        human.line("leave", 3, sprint="7", peer="AAA", reason="gone\x07"),
    )
    text = report(story)
    assert len(text.splitlines()) == 8  # sprint, who, 2 stays, links, the pair, its 2 steps
    for char in text.replace("\n", ""):
        category = unicodedata.category(char)
        assert category not in ("Cc", "Cf", "Cs", "Zl", "Zp"), repr(char)
    assert "Sam\\x1b[2J\\x1b[H\\x0a    Mallory" in text
    text.encode("utf-8")


# --- docs/operations.md ------------------------------------------------------------------------

SCENARIO = [
    *(human.join(0, p, n) for p, n in [("AAA", "Ann"), ("BBB", "Bo"), ("CCC", "Cy")]),
    *(human.join(0, p, n) for p, n in [("DDD", "Dee"), ("EEE", "Eve"), ("FFF", "Fay")]),
    human.join(0, "GGG", "Gus"),
    # failed, with a peer that sent no candidates
    human.signal(1, "BBB", "AAA", "offer"),
    human.signal(1.1, "AAA", "BBB", "answer", "host"),
    human.link(2, "AAA", "BBB", "failed", reason="ice connection failed"),
    human.signal(1, "CCC", "AAA", "offer", "host"),  # never answered
    *negotiated(3, "DDD", "AAA"),
    human.link(4, "AAA", "DDD", "relayed", path="signaling"),
    *negotiated(3, "EEE", "AAA"),  # no link reported
    *negotiated(3, "FFF", "AAA"),
    human.link(4, "AAA", "FFF", "open", path="host/host", took_ms=48, rtt_ms=1.2),
    *negotiated(3, "BBB", "CCC"),
    human.link(4, "BBB", "CCC", "closed"),
    *negotiated(5, "DDD", "BBB"),
    human.link(6, "DDD", "BBB", "relayed", path="signaling"),
    *negotiated(5, "EEE", "BBB"),
    *negotiated(5, "FFF", "BBB"),
    human.link(6, "BBB", "FFF", "open", path="host/host", took_ms=48, rtt_ms=1.2),
    human.signal(5, "GGG", "CCC", "offer", "host"),
    human.join(18, "HHH", "Hal"),
    human.signal(19, "HHH", "AAA", "offer", "host"),
    human.signal(19.5, "HHH", "CCC", "offer", "host"),
    human.leave(20, "BBB", "Bo"),
    human.leave(20.5, "GGG", "Gus"),
    human.leave(21, "HHH", "Hal"),
    human.signal(24.5, "CCC", "DDD", "offer", "host"),
    human.line("ping", 25),
]


def documented_verdicts() -> list[str]:
    """The verdict forms in the first column of the table in "Why can't A see B?"."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("## Why can't A see B?", 1)[1]
    table = section.split("| verdict |", 1)[1].split("\n\n", 1)[0]
    forms = []
    for row in table.splitlines()[2:]:
        first = row.split(" | ")[0]
        forms += re.findall(r"`([^`]+)`", first)
    return forms


def form_pattern(form: str) -> re.Pattern[str]:
    """``HH:MM:SS.mmm`` is a time, ``...`` anything, ``REASON`` some text, ``X`` a peer."""
    pattern = re.escape(form)
    for placeholder, meaning in [
        (re.escape("HH:MM:SS.mmm"), r"\d\d:\d\d:\d\d\.\d{3}"),
        (re.escape("..."), ".*"),
        ("REASON", ".+"),
    ]:
        pattern = pattern.replace(placeholder, meaning)
    return re.compile(re.sub(r"\bX\b", lambda _: r"\w+ \(\w+\)", pattern))


def test_every_verdict_the_docs_explain_is_one_the_reader_prints() -> None:
    printed = [line.split(": ", 1)[1] for line in pair_lines(report(story_of(*SCENARIO)))]
    forms = documented_verdicts()
    assert len(forms) >= 10
    for form in forms:
        pattern = form_pattern(form)
        assert any(pattern.search(line) for line in printed), (form, printed)
