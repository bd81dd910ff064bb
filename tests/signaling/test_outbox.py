"""The Redis broker's outbox without Redis: batches in order, an age limit, a size limit, and what
commands that were not sent leave to do. (tests/signaling/test_cluster.py runs it through real
instances and a real Redis, stalled and stopped.)"""

from __future__ import annotations

from signaling.outbox import (
    EVENT,
    FORGET,
    LEAVE,
    NOTICE,
    PEER,
    Command,
    Lost,
    Outbox,
    Unheard,
    lost,
    unheard,
)


def peer(sender: str | None, queued: float = 0.0) -> Command:
    return Command(PEER, (("publish", "wc:to:far", f"p\n0\n{sender}"),), queued, sender=sender)


def test_commands_leave_in_batches_in_the_order_they_came() -> None:
    outbox = Outbox(limit=10, max_age=2.0)
    commands = [peer(f"p{i}") for i in range(5)]
    assert all(outbox.put(c) for c in commands)
    assert outbox.take(now=1.0, size=3) == (commands[:3], [])
    assert outbox.take(now=1.0, size=3) == (commands[3:], [])
    assert len(outbox) == 0


def test_a_command_that_waited_past_the_age_limit_is_given_back_not_sent() -> None:
    outbox = Outbox(limit=10, max_age=2.0)
    old, fresh = peer("p1", queued=0.0), peer("p2", queued=1.5)
    outbox.put(old)
    outbox.put(fresh)
    assert outbox.take(now=2.0, size=10) == ([old, fresh], [])  # exactly at the limit: sent
    outbox.put(old)
    outbox.put(fresh)
    assert outbox.take(now=2.1, size=10) == ([fresh], [old])


def test_a_full_outbox_refuses_and_drain_gives_everything_back() -> None:
    outbox = Outbox(limit=2, max_age=2.0)
    assert [outbox.put(peer(f"p{i}")) for i in range(3)] == [True, True, False]
    assert [c.sender for c in outbox.drain()] == ["p0", "p1"]
    assert len(outbox) == 0


def test_what_lost_commands_leave_to_do() -> None:
    commands = [
        peer("p1"),
        Command(LEAVE, (), 0.0, sprint="7"),
        peer("p2"),
        Command(EVENT, (), 0.0),
        Command(EVENT, (), 0.0),
        Command(LEAVE, (), 0.0, sprint="7"),
        Command(LEAVE, (), 0.0, sprint="8"),
        peer(None),  # no sender to tell
        Command(FORGET, (), 0.0),
        Command(NOTICE, (), 0.0),
    ]
    loss = lost(commands)
    assert loss.senders == ["p1", "p2"]
    assert loss.sprints == {"7", "8"}
    assert loss.events == 2
    assert lost([Command(FORGET, (), 0.0), Command(NOTICE, (), 0.0)]) == Lost()  # nothing to do


def test_publishes_that_reached_nobody_are_read_from_the_pipeline_replies() -> None:
    """One reply per op, in order: a peer frame nobody got is given back, a notice on a
    sprint's channel that nobody got is only counted, an HDEL's 0 means nothing."""
    leave = Command(
        LEAVE, (("hdel", "wc:members:7", "p9"), ("publish", "wc:sprint:7", "l")), 0.0, sprint="7"
    )
    event = Command(EVENT, (("publish", "wc:sprint:7", "e"),), 0.0)
    notice = Command(NOTICE, (("publish", "wc:to:far", "u"),), 0.0)
    heard, missed, heard_too = peer("p1"), peer("p2"), peer("p3")
    commands = [heard, leave, missed, event, notice, heard_too]
    assert unheard(commands, [1, 0, 2, 0, 0, 0, 3]) == Unheard(
        frames=[missed], notices={EVENT: 1, NOTICE: 1}
    )
    assert unheard(commands, [1, 0, 0, 1, 1, 1, 1]) == Unheard(notices={LEAVE: 1})
    assert unheard(commands, [2, 1, 1, 1, 1, 1, 1]) == Unheard()
