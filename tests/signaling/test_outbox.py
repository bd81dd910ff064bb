"""The Redis broker's outbox without Redis: batches in order, an age limit, a size limit, and what
commands that were not sent leave to do. (tests/signaling/test_cluster.py runs it through real
instances and a real Redis, stalled and stopped.)"""

from __future__ import annotations

from signaling.outbox import EVENT, FORGET, LEAVE, NOTICE, PEER, Command, Lost, Outbox, lost


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
