"""Link reports: what peers say about their links with each other, kept for logs and metrics.

The server never sees a data channel, but both ends of each pair know how theirs went: each
client reports, per other peer, when its channel opened (over which candidate pair, how long after
the first offer, the round trip), when it fell back to the signaling relay, failed or closed
(docs/protocol.md 1.8). A report is never trusted for anything but these figures: it is checked
like any message, names only a peer of the reporter's own sprint, and becomes one ``link`` log
line, a count of outcomes by path, the time-to-open histogram, and the number of relayed pairs.

Every report is logged; only some feed the metrics, so that summing them over instances counts
each pair once. A pair whose peers are both here is counted once per change, whichever side
reports it first. A pair split over two instances (with a broker) is counted only on the
instance of its peer with the smaller id, from that peer's reports: the other instance logs the
other side's reports and counts nothing. No I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

from signaling.actions import Log
from signaling.counters import Counters
from signaling.protocol import LinkReport

# The time-to-open histogram's upper bounds, in milliseconds (the last bucket is +Inf).
OPEN_BUCKETS_MS: Final = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
PATHS: Final = ("direct", "turn", "relay", "failed")

Pair = tuple[str, str]


def path_class(report: LinkReport) -> str:
    """``direct``, ``turn`` (a TURN relay candidate on either side), ``relay`` (the signaling
    relay), ``failed`` or ``closed``."""
    if report.outcome == "open":
        return "turn" if report.path is not None and "relay" in report.path.split("/") else "direct"
    return {"relayed": "relay", "failed": "failed"}.get(report.outcome, "closed")


def counted_here(reporter: str, peer: str, *, peer_is_local: bool) -> bool:
    """Whether a report by local ``reporter`` about ``peer`` feeds this instance's metrics."""
    return peer_is_local or reporter < peer


class LinkBook:
    """The latest outcome of each pair counted here, and the counters behind it."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self._pairs: dict[Pair, str] = {}
        self._by_peer: dict[str, set[Pair]] = {}  # so a leave touches only the leaver's pairs

    def report(
        self, sprint: str, reporter: str, report: LinkReport, *, peer_is_local: bool = True
    ) -> Log:
        """Record one report (counted if :func:`counted_here` says so); return its log line."""
        pair = (reporter, report.peer) if reporter < report.peer else (report.peer, reporter)
        kind = path_class(report)
        if not counted_here(reporter, report.peer, peer_is_local=peer_is_local) or kind == "closed":
            self._drop(pair)  # closed, or counted by the other instance now (a peer moved)
        elif self._pairs.get(pair) != kind:
            self._keep(pair, kind)
            self.counters.link_outcomes[kind] += 1
            if kind in ("direct", "turn") and report.took_ms is not None:
                self.counters.observe_link_open(report.took_ms, OPEN_BUCKETS_MS)
        fields: dict[str, Any] = {
            "sprint": sprint,
            "a": pair[0],
            "b": pair[1],
            "outcome": report.outcome,
            "path": report.path,
            "took_ms": report.took_ms,
            "rtt_ms": report.rtt_ms,
            "reason": report.reason,
            "by": "a" if reporter == pair[0] else "b",
        }
        return Log("link", logging.INFO, fields)

    def left(self, peer: str) -> None:
        """``peer`` left (here, or on another instance as the broker says): drop its pairs."""
        for pair in list(self._by_peer.get(peer, ())):
            self._drop(pair)

    def forget(self, keep: Callable[[str], bool]) -> None:
        """Drop the pairs with a peer ``keep`` says is gone."""
        for pair in [p for p in self._pairs if not (keep(p[0]) and keep(p[1]))]:
            self._drop(pair)

    @property
    def relayed_pairs(self) -> int:
        return sum(kind == "relay" for kind in self._pairs.values())

    def _keep(self, pair: Pair, kind: str) -> None:
        self._pairs[pair] = kind
        for peer in pair:
            self._by_peer.setdefault(peer, set()).add(pair)

    def _drop(self, pair: Pair) -> None:
        if self._pairs.pop(pair, None) is None:
            return
        for peer in pair:
            pairs = self._by_peer.get(peer)
            if pairs is not None:
                pairs.discard(pair)
                if not pairs:
                    del self._by_peer[peer]
