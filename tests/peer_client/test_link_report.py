"""When the bot reports a pair's link to signaling, what the report says, and that it keeps to
docs/protocol.md 1.8's rules and its own budget (peer_client.link_report; no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from peer_client.fields import FieldError
from peer_client.link_report import (
    MAX_LINK_MS,
    REPORT_BURST,
    REPORT_RATE,
    LinkFacts,
    LinkReports,
    build_report,
    check_report,
    outcome_after,
)
from signaling import protocol as signaling_protocol

OPENED = LinkFacts("open", path="host/host", took_ms=48.4, rtt_ms=1.234)
TIMEOUT = LinkFacts("timeout", reason="no direct link within 10 s")
FAILED = LinkFacts("failed", reason="connection failed")
CLOSED = LinkFacts("closed", reason="channel closed")


class Signaling:
    """A signaling connection that takes what is sent (or, while away, refuses it), and keeps it."""

    def __init__(self, up: bool = True) -> None:
        self.up = up
        self.sent: list[dict[str, Any]] = []

    def send(self, report: dict[str, Any]) -> bool:
        if self.up:
            self.sent.append(report)
        return self.up


def test_a_pairs_outcome_changes_on_open_relay_failure_and_close() -> None:
    assert outcome_after(None, "open") == "open"
    assert outcome_after(None, "timeout") == "relayed"
    assert outcome_after(None, "failed") == "failed"
    assert outcome_after("open", "failed") == "failed"
    assert outcome_after("open", "closed") == "closed"
    assert outcome_after("relayed", "open") == "open"
    # Lost, and a retry did not bring a channel within the limit: now the pair is relayed.
    assert outcome_after("failed", "timeout") == "relayed"
    assert outcome_after("closed", "timeout") == "relayed"


@pytest.mark.parametrize(
    ("current", "event"),
    [
        ("relayed", "failed"),
        ("relayed", "timeout"),
        ("relayed", "closed"),
        ("open", "open"),
        ("open", "timeout"),
        ("failed", "failed"),
        ("failed", "closed"),
    ],
)
def test_what_changes_nothing_is_not_an_outcome(current: Any, event: Any) -> None:
    assert outcome_after(current, event) is None


def test_an_open_report_names_the_pair_the_whole_milliseconds_and_the_round_trip() -> None:
    assert build_report("p2", "open", OPENED) == {
        "type": "link",
        "peer": "p2",
        "outcome": "open",
        "path": "host/host",
        "took_ms": 48,
        "rtt_ms": 1.2,
    }
    assert type(build_report("p2", "open", OPENED)["took_ms"]) is int


def test_what_is_unknown_or_out_of_range_is_left_out_rather_than_sent_wrong() -> None:
    bare = {"type": "link", "peer": "p2", "outcome": "open"}
    odd = LinkFacts("open", path="?/host", took_ms=MAX_LINK_MS + 1, rtt_ms=-1)
    assert build_report("p2", "open", odd) == bare
    assert build_report("p2", "open", LinkFacts("open", rtt_ms=float("nan"))) == bare
    assert build_report("p2", "open", LinkFacts("open", took_ms=MAX_LINK_MS + 0.6)) == bare
    assert build_report("p2", "open", LinkFacts("open", took_ms=MAX_LINK_MS + 0.4)) == {
        **bare,
        "took_ms": MAX_LINK_MS,
    }


def test_relayed_goes_through_signaling_and_every_loss_says_why() -> None:
    assert build_report("p2", "relayed", TIMEOUT) == {
        "type": "link",
        "peer": "p2",
        "outcome": "relayed",
        "path": "signaling",
        "reason": "no direct link within 10 s",
    }
    assert build_report("p2", "failed", FAILED)["reason"] == "connection failed"
    assert build_report("p2", "closed", CLOSED)["reason"] == "channel closed"
    odd = build_report("p2", "failed", LinkFacts("failed", reason="a\nb\u202e" + "x" * 200))
    assert odd["reason"] == "a b " + "x" * 116


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"peer": ""}, "peer"),
        ({"peer": "p" * 65}, "peer"),
        ({"outcome": "great"}, "outcome"),
        ({"path": "lan/lan"}, "path"),
        ({"path": "host"}, "path"),
        ({"took_ms": 1.5}, "took_ms"),
        ({"took_ms": -1}, "took_ms"),
        ({"took_ms": True}, "took_ms"),
        ({"took_ms": MAX_LINK_MS + 1}, "took_ms"),
        ({"rtt_ms": "1"}, "rtt_ms"),
        ({"rtt_ms": float("inf")}, "rtt_ms"),
        ({"reason": "a\nb"}, "reason"),
        ({"reason": "x" * 121}, "reason"),
    ],
)
def test_a_report_that_breaks_the_rules_is_refused_before_it_goes_out(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(FieldError, match=field):
        check_report({"type": "link", "peer": "p2", "outcome": "open", **change})


@pytest.mark.parametrize(
    ("outcome", "facts"),
    [("open", OPENED), ("relayed", TIMEOUT), ("failed", FAILED), ("closed", CLOSED)],
)
def test_every_report_we_build_is_one_the_server_takes_as_it_is(outcome: Any, facts: Any) -> None:
    report = build_report("p2", outcome, facts)
    parsed = signaling_protocol.parse_client_message(json.dumps(report))
    assert isinstance(parsed, signaling_protocol.LinkReport)
    assert (parsed.outcome, parsed.path, parsed.took_ms, parsed.reason) == (
        outcome,
        report.get("path"),
        report.get("took_ms"),
        report.get("reason"),
    )


def test_one_report_per_change_of_outcome_never_a_stream() -> None:
    reports, signaling = LinkReports(), Signaling()
    assert reports.note("p2", TIMEOUT)
    reports.flush(0.0, signaling.send)
    for second in range(5):
        assert not reports.note("p2", FAILED)
        assert not reports.note("p2", TIMEOUT)
        reports.flush(float(second), signaling.send)
    assert reports.note("p2", OPENED)
    assert not reports.note("p2", OPENED)
    reports.flush(10.0, signaling.send)
    assert [r["outcome"] for r in signaling.sent] == ["relayed", "open"]
    assert reports.retry_after is None


def test_over_our_budget_a_report_waits_for_the_next_flush_nothing_lost_or_doubled() -> None:
    assert REPORT_RATE < 5, "under the server's 5/s"
    assert REPORT_BURST < 40, "under the server's bursts of 40"
    reports, signaling = LinkReports(), Signaling()
    peers = [f"p{i}" for i in range(int(REPORT_BURST) + 3)]
    for peer in peers:
        reports.note(peer, OPENED)
    assert reports.flush(0.0, signaling.send) == REPORT_BURST
    assert reports.retry_after == pytest.approx(1 / REPORT_RATE)
    assert reports.flush(0.001, signaling.send) == 0, "no token yet"
    assert reports.flush(1 / REPORT_RATE + 0.001, signaling.send) == 1
    assert reports.flush(10.0, signaling.send) == 2
    assert [r["peer"] for r in signaling.sent] == peers, "oldest change first, each once"
    assert reports.retry_after is None


def test_while_signaling_is_away_only_each_pairs_latest_changed_outcome_waits() -> None:
    reports = LinkReports()
    for peer in ("a", "b", "c"):
        reports.note(peer, OPENED)
    reports.flush(0.0, Signaling().send)
    away = Signaling(up=False)
    reports.note("a", CLOSED)
    reports.note("a", OPENED)  # closed and open again meanwhile: signaling already has "open"
    reports.note("b", FAILED)
    reports.note("b", TIMEOUT)
    reports.note("c", CLOSED)
    assert reports.flush(1.0, away.send) == 0
    assert reports.flush(2.0, away.send) == 0
    back = Signaling()
    assert reports.flush(3.0, back.send) == 2
    assert back.sent == [
        {
            "type": "link",
            "peer": "b",
            "outcome": "relayed",
            "path": "signaling",
            "reason": "no direct link within 10 s",
        },
        {"type": "link", "peer": "c", "outcome": "closed", "reason": "channel closed"},
    ]


def test_a_peer_that_says_bye_is_leaving_its_channel_closing_is_no_outcome() -> None:
    reports, signaling = LinkReports(), Signaling()
    reports.note("p2", OPENED)
    reports.flush(0.0, signaling.send)
    reports.said_bye("p2")
    assert not reports.note("p2", CLOSED)
    assert reports.retry_after is None
    reports.forget("p2")  # signaling says it left
    assert reports.note("p2", OPENED), "the same peer id again is a new pair"


def test_a_peer_that_left_is_forgotten_and_its_waiting_report_dropped() -> None:
    reports, back = LinkReports(), Signaling()
    reports.note("p2", OPENED)  # while signaling is away
    reports.forget("p2")
    assert reports.retry_after is None
    reports.flush(0.0, back.send)
    assert back.sent == []
    reports.note("p3", OPENED)
    reports.clear()  # we are a new peer: every pair starts over
    assert reports.retry_after is None
