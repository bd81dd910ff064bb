"""A log's story in plain words: each pair's verdict with its likely cause, failures first.

:func:`report` prints, per sprint, who was there when and every pair with its timeline;
:func:`news` is the one line a followed log prints when a pair's verdict changes. The verdicts
are the ones docs/operations.md ("Why can't A see B?") explains. Everything that came from the log
(names, ids, reasons, paths) goes through ``signaling.logtext.shown``. No I/O.

Pairs are listed by how much they need a look: live problems first (failed, no answer, relayed,
negotiated with no link), then the pairs that ended because a peer left (what they were then),
then live healthy links.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from signaling.logsummary import Pair, Stay, Step, Story
from signaling.logtext import shown

NO_ROUTE: Final = "a firewall or NAT between them; a TURN server would give them one"
LIVE_PROBLEM, ENDED, LIVE_HEALTHY = 0, 1, 2
HEALTHY: Final = 5


def clock(moment: datetime) -> str:
    return moment.strftime("%H:%M:%S.%f")[:-3]


def name(story: Story, peer: str) -> str:
    """``Ann Lee (Qx3yT0)``, or just the id's start when the log never named the peer."""
    known = story.names.get(peer)
    short = shown(peer[:6])
    return f"{shown(known)} ({short})" if known is not None else short


def pair_title(story: Story, pair: Pair) -> str:
    return f"{name(story, pair.a)} <-> {name(story, pair.b)}"


def verdict(story: Story, pair: Pair) -> str:
    """The pair's outcome in plain words, with its likely cause."""
    return diagnosis(story, pair)[1]


def news(story: Story, when: datetime, pair: Pair) -> str:
    """One line on a pair whose verdict changed at ``when``."""
    title = pair_title(story, pair)
    return f"{clock(when)} sprint {shown(pair.sprint)}: {title}: {verdict(story, pair)}"


def diagnosis(story: Story, pair: Pair) -> tuple[int, str]:
    """(rank, words): rank 0 is the worst, 5 a healthy link."""
    ended = pair.ended
    until = f"; ended when {name(story, ended[0])} left at {clock(ended[1])}" if ended else ""
    if pair.outcome == "failed":
        at = pair.outcome_at or pair.last_step or story.now
        why = f": {shown(pair.reason)}" if pair.reason else ""
        return 0, f"FAILED at {clock(at) if at else '?'}{why}{_hint(story, pair)}{until}"
    if pair.outcome is None:
        return _unreported(story, pair)
    if pair.outcome == "relayed":
        since = pair.relayed_since or pair.outcome_at
        since_text = clock(since) if since else "?"
        if ended:
            who, when = ended
            return 2, (
                f"relayed from {since_text} until {name(story, who)} left at {clock(when)}: "
                f"no direct path had come up ({NO_ROUTE}){_hint(story, pair)}"
            )
        return (
            2,
            f"RELAYED since {since_text}: no direct path came up ({NO_ROUTE}){_hint(story, pair)}",
        )
    if pair.outcome == "closed":
        at = pair.outcome_at
        return 3, f"closed at {clock(at) if at else '?'}{until}"
    took = f" in {pair.took_ms:g} ms" if pair.took_ms is not None else ""
    rtt = f", round trip {pair.rtt_ms:g} ms" if pair.rtt_ms is not None else ""
    return HEALTHY, f"open via {shown(pair.path or '?')}{took}{rtt}{until}"


def _unreported(story: Story, pair: Pair) -> tuple[int, str]:
    """Verdicts of a pair no peer reported an outcome for (yet)."""
    ended = pair.ended
    if pair.offered is None:
        if ended:
            who, when = ended
            return 3, f"no negotiation seen before {name(story, who)} left at {clock(when)}"
        return 3, "no negotiation seen"
    if pair.answered is None:
        stop = ended[1] if ended else (story.now or pair.offered)
        if stop - pair.offered >= story.no_answer:
            # No hint about candidates: a peer that never answered sent none, obviously.
            until = (
                f"; ended when {name(story, ended[0])} left at {clock(ended[1])}" if ended else ""
            )
            return 1, (
                f"no answer within {story.no_answer.total_seconds():g} s: "
                f"{name(story, pair.other(pair.offerer))} never answered the offer of "
                f"{clock(pair.offered)} (its client may be stuck, or gone){until}"
            )
        if ended:
            who, when = ended
            return 1, f"never linked: {name(story, who)} left mid-negotiation at {clock(when)}"
        return 3, f"offered at {clock(pair.offered)}, no answer yet"
    if ended:
        who, when = ended
        return 2, (
            f"negotiated at {clock(pair.answered)}, no link reported before "
            f"{name(story, who)} left at {clock(when)}{_hint(story, pair)}"
        )
    return 2, (
        f"negotiated at {clock(pair.answered)} but no link reported (still connecting, or a "
        f"client that does not report){_hint(story, pair)}"
    )


def _hint(story: Story, pair: Pair) -> str:
    silent = [p for p in (pair.a, pair.b) if pair.offered and not pair.candidates.get(p)]
    if not silent:
        return ""
    return (
        f"; {name(story, silent[0])} sent no ICE candidates (no usable network address, or a "
        "browser that hides them: see docs/webrtc.md)"
    )


def order(story: Story, pair: Pair) -> tuple[int, int, str]:
    """Where the pair goes in the report: live problems, ended pairs, live healthy links."""
    rank = diagnosis(story, pair)[0]
    group = ENDED if pair.ended else (LIVE_HEALTHY if rank == HEALTHY else LIVE_PROBLEM)
    return group, rank, pair.a + " " + pair.b


def report(
    story: Story,
    *,
    sprint: str | None = None,
    peer: str | None = None,
    since: datetime | None = None,
) -> str:
    """Per sprint: its peers' stays, then its pairs, failures first. ``peer`` is an id's first
    characters or part of a display name."""
    lines: list[str] = []
    for name_ in story.sprints():
        if sprint is not None and name_ != sprint:
            continue
        stays = [
            s
            for s in story.stays_of(name_)
            if (peer is None or _is(s, peer))
            and (since is None or s.left is None or s.left >= since)
        ]
        pairs = [
            p
            for p in story.pairs_in(name_)
            if story.concerns(p, None, peer)
            and (since is None or (p.last_step is not None and p.last_step >= since))
        ]
        if not stays and not pairs:
            continue
        lines.append(f"sprint {shown(name_)}")
        if stays:
            lines.append("  who was there")
            lines.extend(f"    {_stay(s)}" for s in stays)
        if pairs:
            lines.append("  links, failures first")
            for pair in sorted(pairs, key=lambda p: order(story, p)):
                lines.append(f"    {pair_title(story, pair)}: {verdict(story, pair)}")
                if pair.steps_dropped:
                    lines.append(f"      ({pair.steps_dropped} earlier steps not kept)")
                lines.extend(f"      {_step(story, step)}" for step in pair.steps)
    return "\n".join(lines) + ("\n" if lines else "nothing in this log matches\n")


def _is(stay: Stay, wanted: str) -> bool:
    return stay.peer.startswith(wanted) or wanted.casefold() in stay.name.casefold()


def _stay(stay: Stay) -> str:
    joined = clock(stay.joined) if stay.joined else "before the log began"
    if stay.left is None:
        until = "still there"
    else:
        until = clock(stay.left) + (f" ({shown(stay.reason)})" if stay.reason else "")
    again = f", resumed {stay.resumes}x" if stay.resumes else ""
    who = f"{shown(stay.name)} ({shown(stay.peer[:6])}, user {shown(stay.user)})"
    return f"{who}: {joined} - {until}{again}"


def _step(story: Story, step: Step) -> str:
    if step.to is None:
        return f"{clock(step.time)} {shown(step.what)} (reported by {name(story, step.by)})"
    detail = f" ({shown(','.join(step.candidates))})" if step.candidates else ""
    return (
        f"{clock(step.time)} {shown(step.what)} {name(story, step.by)} -> "
        f"{name(story, step.to)}{detail}"
    )
