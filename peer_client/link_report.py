"""Link reports (docs/protocol.md 1.8): what this client tells signaling about its link with each
other peer, so the server's logs and metrics can say who linked with whom, how and how fast.
No I/O; time is passed in. The page keeps the same rules (``web/static/watercooler/linkreport.js``).

- What happened to a link is a :class:`LinkFacts` event: ``open`` (its channel opened),
  ``timeout`` (no channel :data:`~peer_client.protocol.LINK_TIMEOUT` after negotiation began or the
  link was lost, so the pair stays on the relay), ``failed`` (the connection failed) or ``closed``
  (the channel closed while the peer is still here and did not say ``bye``).
  :func:`outcome_after` turns it into the pair's outcome, or into no change: a pair already
  relayed stays relayed when a retry fails, so a pair that cannot link reports ``relayed`` once
  and then keeps quiet until a channel opens.
- One report per change of outcome per pair, checked by 1.8's field rules before it goes out
  (:func:`check_report`; a report that breaks them is our bug and raises).
- Our own budget, under the server's (5/s, bursts of 40): :data:`REPORT_RATE` a second, bursts of
  :data:`REPORT_BURST`. Over it, or while signaling is away, only the pair's latest outcome waits
  (one per pair, never a queue); :meth:`LinkReports.flush` sends it later, and drops it if it is
  the outcome signaling already has from us. So after reconnecting a pair is reported again only
  if its outcome changed meanwhile.

This module must not import aiortc, aiohttp or asyncio.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from peer_client.fields import FieldError
from peer_client.relay_budget import TokenBucket

Outcome = Literal["open", "relayed", "failed", "closed"]
LinkEvent = Literal["open", "timeout", "failed", "closed"]

LINK_OUTCOMES: Final = ("open", "relayed", "failed", "closed")
CANDIDATE_TYPES: Final = ("host", "srflx", "prflx", "relay")
MAX_LINK_MS: Final = 3_600_000
"""``took_ms`` and ``rtt_ms`` go from 0 to this."""
MAX_REASON_CHARS: Final = 120
MAX_PEER_CHARS: Final = 64
REPORT_RATE: Final = 4.0
"""Reports a second, per signaling connection: under the server's 5."""
REPORT_BURST: Final = 20.0
"""... in bursts of at most this many: under the server's 40."""


@dataclass(frozen=True, slots=True)
class LinkFacts:
    """What the mesh knows when something happens to a link: ``path`` the selected candidate
    pair's ``"local/remote"`` types, ``took_ms`` from the first offer to the open channel,
    ``rtt_ms`` the latest round trip, ``reason`` why it is not open."""

    event: LinkEvent
    path: str | None = None
    took_ms: float | None = None
    rtt_ms: float | None = None
    reason: str | None = None


def outcome_after(current: Outcome | None, event: LinkEvent) -> Outcome | None:
    """The pair's outcome after ``event`` (``current``: so far, None if none), or None when it
    does not change."""
    if event == "open":
        return None if current == "open" else "open"
    if event == "timeout":
        return None if current in ("open", "relayed") else "relayed"
    if event == "failed":
        return None if current in ("relayed", "failed") else "failed"
    return "closed" if current in ("open", None) else None


def _is_candidate_path(value: object) -> bool:
    if not isinstance(value, str):
        return False
    types = value.split("/")
    return len(types) == 2 and all(kind in CANDIDATE_TYPES for kind in types)


def _is_milliseconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= MAX_LINK_MS
    )


def check_report(report: dict[str, Any]) -> dict[str, Any]:
    """Check a report by 1.8's rules, as the server does; returns it, or raises
    :class:`~peer_client.fields.FieldError` naming the field."""
    if report.get("type") != "link":
        raise FieldError('link report: type must be "link"')
    peer = report.get("peer")
    if not isinstance(peer, str) or not 1 <= len(peer) <= MAX_PEER_CHARS:
        raise FieldError(f"link report: peer must be a peer id of 1 to {MAX_PEER_CHARS} characters")
    if report.get("outcome") not in LINK_OUTCOMES:
        raise FieldError(f"link report: outcome must be one of {', '.join(LINK_OUTCOMES)}")
    path = report.get("path")
    if "path" in report and path != "signaling" and not _is_candidate_path(path):
        raise FieldError('link report: path must be "signaling" or "<local>/<remote>" types')
    took = report.get("took_ms")
    if "took_ms" in report and not (type(took) is int and _is_milliseconds(took)):
        raise FieldError(f"link report: took_ms must be whole milliseconds up to {MAX_LINK_MS}")
    if "rtt_ms" in report and not _is_milliseconds(report["rtt_ms"]):
        raise FieldError(f"link report: rtt_ms must be milliseconds from 0 to {MAX_LINK_MS}")
    reason = report.get("reason")
    if "reason" in report and not (
        isinstance(reason, str) and len(reason) <= MAX_REASON_CHARS and reason.isprintable()
    ):
        raise FieldError(
            f"link report: reason must be printable text of at most {MAX_REASON_CHARS} characters"
        )
    return report


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else " " for char in text)[:MAX_REASON_CHARS]


def _rounded(value: float | None, digits: int) -> float | None:
    """``value`` rounded, or None if there is none or it is out of range."""
    if value is None or not math.isfinite(value):
        return None
    rounded = round(value, digits)
    return rounded if _is_milliseconds(rounded) else None


def build_report(peer: str, outcome: Outcome, facts: LinkFacts) -> dict[str, Any]:
    """The report of ``peer``'s new ``outcome``. Figures out of range, and a path whose candidate
    types are unknown, are left out rather than sent wrong."""
    report: dict[str, Any] = {"type": "link", "peer": peer, "outcome": outcome}
    if outcome == "open":
        if _is_candidate_path(facts.path):
            report["path"] = facts.path
        took = _rounded(facts.took_ms, 0)
        if took is not None:
            report["took_ms"] = int(took)
        rtt = _rounded(facts.rtt_ms, 1)
        if rtt is not None:
            report["rtt_ms"] = rtt
    elif outcome == "relayed":
        report["path"] = "signaling"
    if outcome != "open" and facts.reason:
        report["reason"] = _printable(facts.reason)
    return check_report(report)


class LinkReports:
    """Every pair's outcome, what signaling has from us, what waits to go, and the budget."""

    def __init__(self, rate: float = REPORT_RATE, burst: float = REPORT_BURST) -> None:
        self.rate = rate
        self.budget = TokenBucket(rate, burst)
        self.outcomes: dict[str, Outcome] = {}
        """Each pair's current outcome."""
        self.sent: dict[str, str] = {}
        """The outcome last sent for each pair."""
        self.pending: dict[str, dict[str, Any]] = {}
        """The latest report of each pair not sent yet, oldest change first."""
        self.leaving: set[str] = set()
        """Peers that said ``bye``: the end of their link is no outcome to report."""

    def note(self, peer: str, facts: LinkFacts) -> bool:
        """Something happened to the link with ``peer``: True if its outcome changed (its report
        then waits for :meth:`flush`)."""
        outcome = outcome_after(self.outcomes.get(peer), facts.event)
        if outcome is None or peer in self.leaving:
            return False
        self.outcomes[peer] = outcome
        self.pending.pop(peer, None)  # re-inserted last: the oldest change goes first
        self.pending[peer] = build_report(peer, outcome, facts)
        return True

    def flush(self, now: float, send: Callable[[dict[str, Any]], bool]) -> int:
        """Send what waits (``now`` in seconds), within the budget; returns how many went out.
        ``send`` returns False when signaling cannot take it now: it then waits for the next
        flush (after reconnecting)."""
        count = 0
        for peer, report in list(self.pending.items()):
            if self.sent.get(peer) == report["outcome"]:
                del self.pending[peer]  # changed and changed back while it waited: nothing new
                continue
            if not self.budget.take(now) or not send(report):
                break
            self.sent[peer] = report["outcome"]
            del self.pending[peer]
            count += 1
        return count

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before flushing again, or None when nothing waits."""
        return 1.0 / self.rate if self.pending else None

    def said_bye(self, peer: str) -> None:
        """The peer is leaving on purpose: its channel closing next is no outcome to report."""
        self.leaving.add(peer)
        self.pending.pop(peer, None)

    def forget(self, peer: str) -> None:
        """The peer left: its pair is over, nothing about it is sent any more."""
        self.outcomes.pop(peer, None)
        self.sent.pop(peer, None)
        self.pending.pop(peer, None)
        self.leaving.discard(peer)

    def clear(self) -> None:
        """We are a new peer (signaling refused our resume): every pair starts over."""
        self.outcomes.clear()
        self.sent.clear()
        self.pending.clear()
        self.leaving.clear()
