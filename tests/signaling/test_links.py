"""Link reports: checked like any message, one ``link`` log line each, counted once per pair."""

from __future__ import annotations

import pytest

from signaling import protocol
from signaling.errors import ProtocolError
from signaling.rooms import Member
from tests.signaling.conftest import Harness, HarnessFactory, receive_type
from tests.signaling.core_driver import CoreDriver

OPEN = {"type": "link", "outcome": "open", "path": "host/host", "took_ms": 48, "rtt_ms": 1.2}


def test_a_report_becomes_one_link_line_naming_the_pair_in_order() -> None:
    d = CoreDriver()
    alice, wa = d.join("7", "u1")
    bob, wb = d.join("7", "u2")
    d.send(bob, {**OPEN, "peer": wa["peer"]})
    (line,) = [log for log in d.logs if log.event == "link"]
    a, b = sorted([wa["peer"], wb["peer"]])
    assert line.fields == {
        "sprint": "7",
        "a": a,
        "b": b,
        "outcome": "open",
        "path": "host/host",
        "took_ms": 48,
        "rtt_ms": 1.2,
        "reason": None,
        "by": "a" if wb["peer"] == a else "b",
    }
    assert [m["type"] for m in d.take(alice)] == ["welcome", "peer-joined"]  # nobody is told


def test_both_sides_reporting_count_the_pair_once_and_changes_count_again() -> None:
    d = CoreDriver()
    alice, wa = d.join("7", "u1")
    bob, wb = d.join("7", "u2")
    d.send(alice, {"type": "link", "peer": wb["peer"], "outcome": "relayed", "path": "signaling"})
    d.send(bob, {"type": "link", "peer": wa["peer"], "outcome": "relayed", "path": "signaling"})
    counters = d.core.counters
    assert dict(counters.link_outcomes) == {"relay": 1}
    assert d.core.links.relayed_pairs == 1
    d.send(alice, {**OPEN, "peer": wb["peer"], "path": "relay/host", "took_ms": 900})
    d.send(bob, {**OPEN, "peer": wa["peer"], "path": "host/relay", "took_ms": 910})
    assert dict(counters.link_outcomes) == {"relay": 1, "turn": 1}
    assert d.core.links.relayed_pairs == 0
    assert counters.link_open_count == 1
    assert counters.link_open_sum_ms == 900
    d.close(bob)
    assert d.core.links.relayed_pairs == 0


@pytest.mark.parametrize(
    ("report", "words"),
    [
        ({"type": "link", "outcome": "open"}, '"link" message needs a "peer" field'),
        ({"type": "link", "peer": "p1", "outcome": "great"}, '"outcome" must be one of'),
        ({"type": "link", "peer": "p1", "outcome": "open", "path": "lan/lan"}, '"path" must be'),
        ({"type": "link", "peer": "p1", "outcome": "open", "path": 7}, '"path" must be'),
        ({"type": "link", "peer": "p1", "outcome": "open", "took_ms": -1}, '"took_ms"'),
        ({"type": "link", "peer": "p1", "outcome": "open", "took_ms": 1.5}, '"took_ms"'),
        ({"type": "link", "peer": "p1", "outcome": "open", "rtt_ms": "1"}, '"rtt_ms"'),
        ({"type": "link", "peer": "p1", "outcome": "failed", "reason": "a\nb"}, '"reason"'),
        ({"type": "link", "peer": "p1", "outcome": "failed", "reason": "x" * 121}, '"reason"'),
    ],
)
def test_malformed_reports_are_refused_naming_the_field(
    report: dict[str, object], words: str
) -> None:
    import json

    with pytest.raises(ProtocolError) as refused:
        protocol.parse_client_message(json.dumps(report))
    assert words in refused.value.message


def test_a_report_can_only_name_a_peer_of_the_reporters_sprint() -> None:
    d = CoreDriver()
    alice, _ = d.join("7", "u1")
    _, other = d.join("8", "u9")
    d.take(alice)
    d.send(alice, {**OPEN, "peer": other["peer"]})
    d.send(alice, {**OPEN, "peer": "nobody"})
    assert [m["code"] for m in d.take(alice)] == ["unknown-peer", "unknown-peer"]
    assert not [log for log in d.logs if log.event == "link"]


def test_reports_have_their_own_rate_limit() -> None:
    from signaling.core import SignalingCore
    from tests.signaling.core_driver import settings

    d = CoreDriver(SignalingCore(settings(report_rate=0.1, report_burst=2)))
    _alice, wa = d.join("7", "u1")
    bob, _ = d.join("7", "u2")
    d.take(bob)
    for _ in range(3):
        d.send(bob, {**OPEN, "peer": wa["peer"]})
    assert [m["code"] for m in d.take(bob)] == ["rate-limited"]
    assert len([log for log in d.logs if log.event == "link"]) == 2
    assert d.closed_with(bob) is None


async def test_metrics_show_outcomes_relayed_pairs_and_time_to_open(harness: Harness) -> None:
    _alice, wa = await harness.join("7", "u1")
    bob, wb = await harness.join("7", "u2")
    carol, _wc = await harness.join("7", "u3")
    await bob.send_json({**OPEN, "peer": wa["peer"], "took_ms": 40})
    await carol.send_json(
        {"type": "link", "peer": wa["peer"], "outcome": "relayed", "path": "signaling"}
    )
    await carol.send_json({"type": "link", "peer": wb["peer"], "outcome": "failed"})
    await carol.send_json({"type": "ping"})
    await receive_type(carol, "pong")
    text = await harness.metrics()
    assert 'watercooler_link_outcomes_total{path="direct"} 1.0' in text
    assert 'watercooler_link_outcomes_total{path="relay"} 1.0' in text
    assert 'watercooler_link_outcomes_total{path="failed"} 1.0' in text
    assert 'watercooler_link_outcomes_total{path="turn"} 0.0' in text
    assert "watercooler_relayed_pairs 1.0" in text
    assert 'watercooler_link_open_seconds_bucket{le="0.05"} 1.0' in text
    assert "watercooler_link_open_seconds_count 1.0" in text


async def test_a_report_before_join_is_refused_and_changes_nothing(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory()
    ws = await harness.connect()
    await ws.send_json({**OPEN, "peer": "p1"})
    assert (await receive_type(ws, "error"))["code"] == "not-joined"


# --- pairs across instances, contradictions, leaves ------------------------------------------


def _remote(peer: str, sprint: str = "7") -> Member:
    return Member(peer, sprint, f"user-{peer}", peer.upper(), 1, "other-instance")


RELAYED = {"type": "link", "outcome": "relayed", "path": "signaling"}


@pytest.mark.parametrize(("remote_peer", "counted"), [("a1", False), ("zz", True)])
def test_a_pair_across_instances_is_counted_only_where_its_smaller_id_is(
    remote_peer: str, counted: bool
) -> None:
    """Local peers here are p1, p2, ...: "a1" sorts before them, "zz" after."""
    d = CoreDriver()
    alice, _ = d.join("7", "u1")
    d.run(d.core.news.remote_joined(_remote(remote_peer)))
    d.send(alice, {**RELAYED, "peer": remote_peer})
    d.send(alice, {**OPEN, "peer": remote_peer, "took_ms": 70})
    assert d.take(alice)[-1]["type"] == "peer-joined"  # no error: both reports taken
    assert len([log for log in d.logs if log.event == "link"]) == 2  # and both logged
    counters = d.core.counters
    expected = {"relay": 1, "direct": 1} if counted else {}
    assert {k: v for k, v in counters.link_outcomes.items() if v} == expected
    assert counters.link_open_count == (1 if counted else 0)
    d.send(alice, {**RELAYED, "peer": remote_peer})
    assert d.core.links.relayed_pairs == (1 if counted else 0)


def test_the_relayed_gauge_drops_when_a_peer_on_another_instance_leaves() -> None:
    d = CoreDriver()  # heartbeat 0: no sweep would ever clear it
    alice, _ = d.join("7", "u1")
    remote = _remote("zz")
    d.run(d.core.news.remote_joined(remote))
    d.send(alice, {**RELAYED, "peer": "zz"})
    assert d.core.links.relayed_pairs == 1
    d.run(d.core.news.remote_left(remote))
    assert d.core.links.relayed_pairs == 0


@pytest.mark.parametrize("how", ["synced", "instance lost"])
def test_the_relayed_gauge_drops_when_the_broker_says_the_other_instance_lost_its_peer(
    how: str,
) -> None:
    d = CoreDriver()
    alice, _ = d.join("7", "u1")
    d.run(d.core.news.remote_joined(_remote("zz")))
    d.send(alice, {**RELAYED, "peer": "zz"})
    assert d.core.links.relayed_pairs == 1
    if how == "synced":
        d.run(d.core.news.remote_synced("7", "other-instance", []))
    else:
        d.run(d.core.news.instance_lost("other-instance")[0])
    assert d.core.links.relayed_pairs == 0


@pytest.mark.parametrize(
    ("report", "words"),
    [
        ({"outcome": "open", "path": "signaling"}, '"path"'),
        ({"outcome": "relayed", "path": "host/host"}, '"path"'),
        ({"outcome": "relayed", "path": "relay/relay"}, '"path"'),
        ({"outcome": "relayed", "path": "signaling", "took_ms": 10}, '"took_ms"'),
        ({"outcome": "failed", "took_ms": 0}, '"took_ms"'),
        ({"outcome": "closed", "took_ms": 3600000}, '"took_ms"'),
    ],
)
def test_contradictory_reports_are_refused_naming_the_field(
    report: dict[str, object], words: str
) -> None:
    d = CoreDriver()
    alice, _ = d.join("7", "u1")
    _, wb = d.join("7", "u2")
    d.take(alice)
    d.send(alice, {"type": "link", "peer": wb["peer"], **report})
    (error,) = d.take(alice)
    assert error["code"] == "bad-message"
    assert words in error["message"]
    assert not [log for log in d.logs if log.event == "link"]


def test_a_negative_zero_round_trip_is_logged_as_zero() -> None:
    d = CoreDriver()
    alice, _ = d.join("7", "u1")
    _, wb = d.join("7", "u2")
    peer = wb["peer"]
    d.send(alice, f'{{"type":"link","peer":"{peer}","outcome":"open","rtt_ms":-0.0}}')
    (line,) = [log for log in d.logs if log.event == "link"]
    assert line.fields["rtt_ms"] == 0
    assert str(line.fields["rtt_ms"]) == "0.0"
