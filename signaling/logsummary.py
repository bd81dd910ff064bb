"""The story a signaling log tells: who was in each sprint when, and how each pair's link went.

:class:`Story` takes log entries (``signaling.logreader``) in order and keeps, per sprint, each
peer's stay (join, resumes, leave and why) and, per pair, its negotiation (offer, answer,
candidates by type) and the outcome its peers reported (``link`` lines). :meth:`Story.report`
tells it in plain words, failures first, each with its likely cause. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from signaling.logreader import Entry

NO_ANSWER_SECONDS: Final = 10.0


@dataclass(slots=True)
class Stay:
    peer: str
    sprint: str
    name: str
    user: str
    joined: datetime
    left: datetime | None = None
    reason: str | None = None
    resumes: int = 0


@dataclass(slots=True)
class Pair:
    sprint: str
    a: str
    b: str
    steps: list[tuple[datetime, str]] = field(default_factory=list)
    offered: datetime | None = None
    offerer: str | None = None
    answered: datetime | None = None
    candidates: dict[str, set[str]] = field(default_factory=dict)
    outcome: str | None = None
    outcome_at: datetime | None = None
    path: str | None = None
    took_ms: float | None = None
    rtt_ms: float | None = None
    reason: str | None = None
    relayed_since: datetime | None = None
    left_mid: tuple[str, datetime] | None = None


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S.%f")[:-3]


class Story:
    """Everything one log says about sprints, peers and pairs."""

    def __init__(self, no_answer_seconds: float = NO_ANSWER_SECONDS) -> None:
        self.no_answer = timedelta(seconds=no_answer_seconds)
        self.stays: dict[str, list[Stay]] = {}  # sprint -> stays, in order
        self.pairs: dict[tuple[str, str], Pair] = {}
        self.current: dict[str, Stay] = {}  # peer -> its open stay
        self.last: datetime | None = None

    # --- reading ------------------------------------------------------------------------------

    def add(self, entry: Entry) -> Pair | None:
        """Take one entry; the pair whose outcome it changed, if any (for following a log)."""
        self.last = entry.time
        event = entry.event
        if event in ("join", "resume"):
            self._joined(entry)
        elif event == "leave":
            self._left(entry)
        elif event == "signal":
            self._signal(entry)
        elif event == "link":
            return self._link(entry)
        elif event == "shutdown":
            for peer in list(self.current):
                self._close_stay(peer, entry.time, "server shutting down")
        return None

    def _joined(self, entry: Entry) -> None:
        peer, sprint = entry.text("peer"), entry.text("sprint")
        if peer is None or sprint is None:
            return
        stay = self.current.get(peer)
        if stay is not None and stay.sprint == sprint:
            stay.resumes += 1
            return
        stay = Stay(peer, sprint, entry.text("name") or "?", entry.text("user") or "?", entry.time)
        self.current[peer] = stay
        self.stays.setdefault(sprint, []).append(stay)

    def _left(self, entry: Entry) -> None:
        peer = entry.text("peer")
        if peer is not None:
            self._close_stay(peer, entry.time, entry.text("reason"))

    def _close_stay(self, peer: str, moment: datetime, reason: str | None) -> None:
        stay = self.current.pop(peer, None)
        if stay is None:
            return
        stay.left, stay.reason = moment, reason
        for pair in self.pairs.values():
            negotiating = pair.offered is not None and pair.answered is None
            if peer in (pair.a, pair.b) and pair.outcome is None and negotiating:
                pair.left_mid = pair.left_mid or (peer, moment)

    def pair(self, sprint: str, one: str, other: str) -> Pair:
        a, b = (one, other) if one < other else (other, one)
        found = self.pairs.get((a, b))
        if found is None:
            found = self.pairs[(a, b)] = Pair(sprint, a, b)
        return found

    def _signal(self, entry: Entry) -> None:
        sender, to, sprint = entry.text("from"), entry.text("to"), entry.text("sprint")
        kind = entry.text("kind") or "other"
        if sender is None or to is None or sprint is None:
            return
        pair = self.pair(sprint, sender, to)
        types = [t for t in (entry.text("candidates") or "").split(",") if t]
        pair.candidates.setdefault(sender, set()).update(types)
        if kind == "offer":
            if pair.offered is None or pair.outcome in ("closed", "failed"):
                pair.offered, pair.offerer, pair.answered = entry.time, sender, None
                pair.outcome = pair.left_mid = None
        elif kind == "answer" and pair.answered is None:
            pair.answered = entry.time
        detail = f" ({','.join(types)})" if types else ""
        pair.steps.append((entry.time, f"{kind} {self.name(sender)} -> {self.name(to)}{detail}"))

    def _link(self, entry: Entry) -> Pair | None:
        a, b, sprint = entry.text("a"), entry.text("b"), entry.text("sprint")
        outcome = entry.text("outcome")
        if a is None or b is None or sprint is None or outcome is None:
            return None
        pair = self.pair(sprint, a, b)
        by = a if entry.text("by") == "a" else b
        previous = pair.outcome
        pair.outcome, pair.outcome_at = outcome, entry.time
        pair.path = entry.text("path") or pair.path
        pair.took_ms = entry.number("took_ms") or pair.took_ms
        pair.rtt_ms = entry.number("rtt_ms") or pair.rtt_ms
        pair.reason = entry.text("reason") or pair.reason
        if outcome == "relayed" and pair.relayed_since is None:
            pair.relayed_since = entry.time
        elif outcome == "open":
            pair.relayed_since = None
        pair.steps.append((entry.time, f"{outcome} (reported by {self.name(by)})"))
        return None if outcome == previous else pair

    def news(self, pair: Pair) -> str:
        """One line on a pair's new outcome."""
        when = _clock(pair.outcome_at or self.last_time)
        return f"{when} sprint {pair.sprint}: {self.pair_title(pair)}: {self.verdict(pair)}"

    @staticmethod
    def concerns(pair: Pair, sprint: str | None, peer: str | None) -> bool:
        """Whether ``pair`` is in ``sprint`` and has ``peer`` (None: any)."""
        return (sprint is None or pair.sprint == sprint) and (
            peer is None or pair.a.startswith(peer) or pair.b.startswith(peer)
        )

    # --- telling ------------------------------------------------------------------------------

    def name(self, peer: str) -> str:
        for stays in self.stays.values():
            for stay in stays:
                if stay.peer == peer:
                    return f"{stay.name} ({peer[:6]})"
        return peer[:6]

    def pair_title(self, pair: Pair) -> str:
        return f"{self.name(pair.a)} <-> {self.name(pair.b)}"

    def verdict(self, pair: Pair) -> str:
        """The pair's outcome in plain words, with its likely cause."""
        return self._diagnosis(pair)[1]

    def _diagnosis(self, pair: Pair) -> tuple[int, str]:
        """(rank, words): rank 0 is the worst; the report lists pairs by rank."""
        silent = [p for p in (pair.a, pair.b) if pair.offered and not pair.candidates.get(p)]
        hint = (
            f"; {self.name(silent[0])} sent no ICE candidates (no usable network address, or a "
            "browser that hides them: see docs/webrtc.md)"
            if silent
            else ""
        )
        if pair.outcome == "failed":
            why = f": {pair.reason}" if pair.reason else ""
            return 0, f"FAILED at {_clock(pair.outcome_at or pair.steps[-1][0])}{why}{hint}"
        if pair.outcome is None:
            if pair.offered is None:
                return 3, "no negotiation seen"
            ended = pair.left_mid[1] if pair.left_mid is not None else (self.last or pair.offered)
            if pair.answered is None and ended - pair.offered >= self.no_answer:
                other = pair.b if pair.offerer == pair.a else pair.a
                return 1, (
                    f"no answer within {self.no_answer.total_seconds():g} s: "
                    f"{self.name(other)} never answered the offer of "
                    f"{_clock(pair.offered)} (its client may be stuck, or gone){hint}"
                )
            if pair.left_mid is not None:
                who, moment = pair.left_mid
                return 1, f"never linked: {self.name(who)} left mid-negotiation at {_clock(moment)}"
            if pair.answered is None:
                return 3, f"offered at {_clock(pair.offered)}, no answer yet"
            return 2, (
                f"negotiated at {_clock(pair.answered)} but no link reported (still "
                f"connecting, or a client that does not report){hint}"
            )
        if pair.outcome == "relayed":
            since = _clock(pair.relayed_since or pair.outcome_at or pair.offered or self.last_time)
            return 2, (
                f"RELAYED since {since}: no direct path came up (a firewall or NAT between "
                f"them; a TURN server would give them one){hint}"
            )
        if pair.outcome == "closed":
            return 4, f"closed at {_clock(pair.outcome_at or self.last_time)}"
        took = f" in {pair.took_ms:g} ms" if pair.took_ms is not None else ""
        rtt = f", round trip {pair.rtt_ms:g} ms" if pair.rtt_ms is not None else ""
        return 5, f"open via {pair.path or '?'}{took}{rtt}"

    @property
    def last_time(self) -> datetime:
        assert self.last is not None
        return self.last

    def report(
        self, *, sprint: str | None = None, peer: str | None = None, since: datetime | None = None
    ) -> str:
        """Per sprint: its peers' stays, then its pairs, failures first."""
        lines: list[str] = []
        for name in sorted(self.stays, key=lambda s: (len(s), s)):
            if sprint is not None and name != sprint:
                continue
            stays = [
                s
                for s in self.stays[name]
                if (peer is None or s.peer.startswith(peer))
                and (since is None or s.left is None or s.left >= since)
            ]
            pairs = [
                p
                for p in self.pairs.values()
                if self.concerns(p, name, peer)
                and (since is None or not p.steps or p.steps[-1][0] >= since)
            ]
            if not stays and not pairs:
                continue
            lines.append(f"sprint {name}")
            lines.append("  who was there")
            for stay in stays:
                until = f"{_clock(stay.left)} ({stay.reason})" if stay.left else "still there"
                again = f", resumed {stay.resumes}x" if stay.resumes else ""
                lines.append(
                    f"    {stay.name} ({stay.peer[:6]}, user {stay.user}): "
                    f"{_clock(stay.joined)} - {until}{again}"
                )
            lines.append("  links, failures first")
            for pair in sorted(pairs, key=lambda p: (self._diagnosis(p)[0], p.a, p.b)):
                lines.append(f"    {self.pair_title(pair)}: {self.verdict(pair)}")
                for moment, step in pair.steps:
                    lines.append(f"      {_clock(moment)} {step}")
        return "\n".join(lines) + ("\n" if lines else "nothing in this log matches\n")
