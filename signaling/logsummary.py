"""The story a signaling log tells: who was in each sprint when, and how each pair's link went.

:class:`Story` takes log entries (``signaling.logreader``) in time order and keeps, per sprint,
each peer's stay (join, resumes, leave and why) and, per pair, its negotiation (offer, answer,
candidates by type), the outcome its peers reported (``link`` lines) and whether it ended because
one of them left. ``signaling.logverdict`` tells it in words. No I/O.

Every entry costs the same whatever came before: stays, names and pairs are indexed by peer and
by sprint, never searched. Following a live log (``keep_ended``), only that many of the stays and
pairs that ended are kept, the oldest forgotten first, so memory stays bounded however long the
log runs; a whole file is read with everything kept.

A log may begin after its peers joined (a rotated file, ``tail -f`` started late): their pairs are
still told, by peer id until a ``leave`` line brings their names.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import count
from typing import Final

from signaling.logreader import Entry

NO_ANSWER_SECONDS: Final = 10.0
OUTCOMES: Final = ("open", "relayed", "failed", "closed")
STEPS_KEPT_FOLLOWING: Final = 200  # per pair, when following: the latest ones

PairKey = tuple[str, str, str]  # sprint, a, b (a < b)


@dataclass(slots=True)
class Stay:
    """One peer's time in one sprint. ``joined`` is None when the log began after the join."""

    number: int
    peer: str
    sprint: str
    name: str
    user: str
    joined: datetime | None
    source: int = 0  # which of the logs read together it comes from (its instance)
    left: datetime | None = None
    reason: str | None = None
    resumes: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a pair's timeline: a signal (``what`` is its kind, ``by`` -> ``to``) or an
    outcome reported by ``by`` (``to`` is None)."""

    time: datetime
    what: str
    by: str
    to: str | None = None
    candidates: tuple[str, ...] = ()


@dataclass(slots=True)
class Pair:
    sprint: str
    a: str
    b: str
    steps: list[Step] = field(default_factory=list)
    steps_dropped: int = 0
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
    ended: tuple[str, datetime] | None = None  # the first of its peers to leave, and when

    @property
    def key(self) -> PairKey:
        return self.sprint, self.a, self.b

    @property
    def last_step(self) -> datetime | None:
        return self.steps[-1].time if self.steps else None

    def other(self, peer: str | None) -> str:
        return self.b if peer == self.a else self.a


News = tuple[datetime, Pair]  # a pair whose verdict changed, and when


@lru_cache(maxsize=256)
def _candidate_types(text: str) -> tuple[str, ...]:
    """``host,srflx`` as a tuple, one shared copy per spelling (a log repeats a few)."""
    return tuple(t for t in text.split(",") if t)


class Story:
    """Everything a log says about sprints, peers and pairs."""

    def __init__(
        self, no_answer_seconds: float = NO_ANSWER_SECONDS, keep_ended: int | None = None
    ) -> None:
        self.no_answer = timedelta(seconds=no_answer_seconds)
        self.keep_ended = keep_ended
        self.stays: dict[str, dict[int, Stay]] = {}  # sprint -> stays by number, in order
        self.pairs: dict[str, dict[PairKey, Pair]] = {}  # sprint -> pairs, in order
        self.names: dict[str, str] = {}  # peer -> its display name
        self.current: dict[str, Stay] = {}  # peer -> its open stay
        self.last: datetime | None = None  # the time of the latest entry
        self.now: datetime | None = None  # that, or later while a followed log is quiet
        self._numbers = count()
        self._pairs_of: dict[str, dict[PairKey, Pair]] = {}
        self._stays_kept: dict[str, int] = {}  # peer -> how many of its stays are kept
        self._ended_stays: deque[Stay] = deque()
        self._ended_pairs: dict[PairKey, Pair] = {}  # in the order they ended
        self._awaiting: dict[PairKey, Pair] = {}  # offers not answered yet, oldest first

    # --- reading ------------------------------------------------------------------------------

    def add(self, entry: Entry, source: int = 0) -> list[News]:
        """Take one entry (``source``: which log it is from); the pairs whose verdict changed."""
        self.last = entry.time
        if self.now is None or entry.time > self.now:
            self.now = entry.time
        event = entry.event
        news: list[News] = []
        if event in ("join", "resume"):
            self._joined(entry, source)
        elif event == "leave":
            news = self._left(entry, source)
        elif event == "signal":
            self._signal(entry)
        elif event == "link":
            news = self._link(entry)
        elif event == "shutdown":
            news = self._shutdown(entry.time, source)
        news.extend(self.overdue(self.now))
        return news

    def advance(self, now: datetime) -> list[News]:
        """Time passed with no entry (a quiet followed log): offers that are now overdue."""
        if self.now is None or now <= self.now:
            return []
        self.now = now
        return self.overdue(now)

    def overdue(self, now: datetime) -> list[News]:
        """Offers still unanswered ``no_answer`` after they were made (each told once)."""
        news: list[News] = []
        awaiting = self._awaiting
        while awaiting:
            key, pair = next(iter(awaiting.items()))
            assert pair.offered is not None
            deadline = pair.offered + self.no_answer
            if deadline > now:
                break
            del awaiting[key]
            news.append((deadline, pair))
        return news

    def _joined(self, entry: Entry, source: int) -> None:
        peer, sprint = entry.text("peer"), entry.text("sprint")
        if not peer or not sprint:
            return
        stay = self.current.get(peer)
        if stay is not None and stay.sprint == sprint:
            stay.resumes += 1
            return
        if stay is not None:  # the same id in another sprint: the old stay is over
            self._close(stay, entry.time, None)
        name = entry.text("name") or "?"
        self.names[peer] = name
        stay = Stay(
            next(self._numbers), peer, sprint, name, entry.text("user") or "?", entry.time, source
        )
        self.current[peer] = stay
        self._keep_stay(stay)

    def _left(self, entry: Entry, source: int) -> list[News]:
        peer, sprint = entry.text("peer"), entry.text("sprint")
        if not peer:
            return []
        stay = self.current.get(peer)
        if stay is None:
            if not sprint:
                return []
            # The log began after this peer joined: it was there until now.
            name = entry.text("name") or self.names.get(peer) or "?"
            self.names.setdefault(peer, name)
            user = entry.text("user") or "?"
            stay = Stay(next(self._numbers), peer, sprint, name, user, None, source)
            self._keep_stay(stay)
        return self._close(stay, entry.time, entry.text("reason"))

    def _shutdown(self, moment: datetime, source: int) -> list[News]:
        """An instance stopped: its peers left. Peers whose join the log never showed may have
        been its peers too: their pairs end as well."""
        news: list[News] = []
        for stay in [s for s in self.current.values() if s.source == source]:
            news.extend(self._close(stay, moment, "server shutting down"))
        for peer in [p for p in self._pairs_of if p not in self.current]:
            news.extend(self._end_pairs(peer, moment))
        return news

    def _close(self, stay: Stay, moment: datetime, reason: str | None) -> list[News]:
        if self.current.get(stay.peer) is stay:
            del self.current[stay.peer]
        stay.left, stay.reason = moment, reason
        news = self._end_pairs(stay.peer, moment)
        if self.keep_ended is not None:
            self._ended_stays.append(stay)
            self._forget_old()
        return news

    def _end_pairs(self, peer: str, moment: datetime) -> list[News]:
        news: list[News] = []
        for pair in list(self._pairs_of.get(peer, {}).values()):
            if pair.ended is not None:
                continue
            pair.ended = (peer, moment)
            self._awaiting.pop(pair.key, None)
            if self.keep_ended is not None:
                self._ended_pairs[pair.key] = pair
            if pair.outcome is not None:
                news.append((moment, pair))
        return news

    def pair(self, sprint: str, one: str, other: str) -> Pair:
        a, b = (one, other) if one < other else (other, one)
        pairs = self.pairs.setdefault(sprint, {})
        found = pairs.get((sprint, a, b))
        if found is None:
            found = pairs[sprint, a, b] = Pair(sprint, a, b)
            for peer in (a, b):
                self._pairs_of.setdefault(peer, {})[found.key] = found
        return found

    def _step(self, pair: Pair, step: Step) -> None:
        steps = pair.steps
        steps.append(step)
        if self.keep_ended is not None and len(steps) >= 2 * STEPS_KEPT_FOLLOWING:
            dropped = len(steps) - STEPS_KEPT_FOLLOWING  # now and then, so each step costs O(1)
            del steps[:dropped]
            pair.steps_dropped += dropped

    def _signal(self, entry: Entry) -> None:
        sender, to, sprint = entry.text("from"), entry.text("to"), entry.text("sprint")
        if not sender or not to or not sprint or sender == to:
            return
        kind = sys.intern(entry.text("kind") or "other")
        pair = self.pair(sprint, sender, to)
        sender, to = (pair.a, pair.b) if sender == pair.a else (pair.b, pair.a)  # one copy each
        types = _candidate_types(entry.text("candidates") or "")
        pair.candidates.setdefault(sender, set()).update(types)
        if kind == "offer":
            if pair.offered is None or pair.outcome in ("closed", "failed") or pair.ended:
                self._restart(pair, entry.time, sender)
        elif kind == "answer" and pair.answered is None:
            pair.answered = entry.time
            self._awaiting.pop(pair.key, None)
        self._step(pair, Step(entry.time, kind, sender, to, types))

    def _restart(self, pair: Pair, moment: datetime, offerer: str) -> None:
        """A new negotiation: the first, or one after the link failed, closed or ended."""
        pair.offered, pair.offerer, pair.answered = moment, offerer, None
        pair.outcome = None
        self._revive(pair)
        self._awaiting.pop(pair.key, None)
        self._awaiting[pair.key] = pair

    def _revive(self, pair: Pair) -> None:
        if pair.ended is not None:
            pair.ended = None
            self._ended_pairs.pop(pair.key, None)

    def _link(self, entry: Entry) -> list[News]:
        a, b, sprint = entry.text("a"), entry.text("b"), entry.text("sprint")
        outcome = entry.text("outcome")
        if not a or not b or not sprint or a == b or outcome not in OUTCOMES:
            return []
        pair = self.pair(sprint, a, b)
        by = {"a": pair.a, "b": pair.b}.get(entry.text("by") or "")
        previous = pair.outcome
        pair.outcome, pair.outcome_at = outcome, entry.time
        self._awaiting.pop(pair.key, None)
        self._revive(pair)  # both were there to report it
        pair.path = entry.text("path") or pair.path
        if outcome == "open":  # both sides report: the figures of either
            took, rtt = entry.number("took_ms"), entry.number("rtt_ms")
            pair.took_ms = pair.took_ms if took is None else took
            pair.rtt_ms = pair.rtt_ms if rtt is None else rtt
        reason = (entry.text("reason") or "").strip()
        pair.reason = reason or (pair.reason if outcome == previous else None)
        if outcome == "relayed" and pair.relayed_since is None:
            pair.relayed_since = entry.time
        elif outcome != "relayed":
            pair.relayed_since = None
        self._step(pair, Step(entry.time, sys.intern(outcome), by or "?"))
        return [] if outcome == previous else [(entry.time, pair)]

    # --- forgetting (following a live log) ------------------------------------------------------

    def _keep_stay(self, stay: Stay) -> None:
        self.stays.setdefault(stay.sprint, {})[stay.number] = stay
        self._stays_kept[stay.peer] = self._stays_kept.get(stay.peer, 0) + 1

    def _forget_old(self) -> None:
        keep = self.keep_ended
        if keep is None:
            return
        while len(self._ended_stays) > keep:
            self._forget_stay(self._ended_stays.popleft())
        while len(self._ended_pairs) > keep:
            self._forget_pair(next(iter(self._ended_pairs.values())))

    def _forget_stay(self, stay: Stay) -> None:
        stays = self.stays.get(stay.sprint, {})
        stays.pop(stay.number, None)
        if not stays:
            self.stays.pop(stay.sprint, None)
        left = self._stays_kept[stay.peer] - 1
        if left:
            self._stays_kept[stay.peer] = left
            return
        del self._stays_kept[stay.peer]
        if stay.peer not in self.current:  # nothing left of this peer but its ended pairs
            for pair in list(self._pairs_of.get(stay.peer, {}).values()):
                if pair.ended is not None:
                    self._forget_pair(pair)
            self.names.pop(stay.peer, None)

    def _forget_pair(self, pair: Pair) -> None:
        key = pair.key
        self._ended_pairs.pop(key, None)
        self._awaiting.pop(key, None)
        pairs = self.pairs.get(pair.sprint, {})
        pairs.pop(key, None)
        if not pairs:
            self.pairs.pop(pair.sprint, None)
        for peer in (pair.a, pair.b):
            mine = self._pairs_of.get(peer)
            if mine is not None:
                mine.pop(key, None)
                if not mine:
                    del self._pairs_of[peer]

    # --- questions ----------------------------------------------------------------------------

    def sprints(self) -> list[str]:
        """Every sprint with a stay or a pair, shortest names first (so 7 before 12)."""
        return sorted(self.stays.keys() | self.pairs.keys(), key=lambda s: (len(s), s))

    def stays_of(self, sprint: str) -> Sequence[Stay]:
        return list(self.stays.get(sprint, {}).values())

    def pairs_in(self, sprint: str) -> Iterator[Pair]:
        return iter(self.pairs.get(sprint, {}).values())

    def is_peer(self, peer: str, wanted: str) -> bool:
        """Whether ``wanted`` names ``peer``: the first characters of its id, or part of its
        display name (any case)."""
        if peer.startswith(wanted):
            return True
        name = self.names.get(peer)
        return name is not None and wanted.casefold() in name.casefold()

    def concerns(self, pair: Pair, sprint: str | None, peer: str | None) -> bool:
        """Whether ``pair`` is in ``sprint`` and has ``peer`` (None: any)."""
        return (sprint is None or pair.sprint == sprint) and (
            peer is None or self.is_peer(pair.a, peer) or self.is_peer(pair.b, peer)
        )
