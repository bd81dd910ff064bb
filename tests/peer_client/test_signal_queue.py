"""One peer's negotiation, in order, with what an offer flood can make us answer bounded
(peer_client.signal_queue; no sockets). tests/web/signalqueue.test.mjs: the same rules."""

from __future__ import annotations

from typing import Any

from peer_client.signal_queue import Ready, SignalQueue


def offer(sdp: str) -> dict[str, Any]:
    return {"description": {"type": "offer", "sdp": sdp}}


def candidate(line: str) -> dict[str, Any]:
    return {"candidate": {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0}}


def drain(queue: SignalQueue, now: float) -> list[Any]:
    out = []
    while isinstance(step := queue.take(now), Ready):
        out.append(step.item)
    return out


def test_signals_come_out_in_order() -> None:
    queue = SignalQueue()
    for item in (offer("a"), candidate("1"), candidate("2"), {"candidate": None}):
        queue.push(item)
    assert drain(queue, 0.0) == [offer("a"), candidate("1"), candidate("2"), {"candidate": None}]
    assert queue.take(0.0) is None


def test_a_new_offer_drops_what_waits_before_it_but_not_our_own_offer() -> None:
    queue = SignalQueue()
    queue.push(offer("a"))
    assert queue.take(0.0) == Ready(offer("a")), "being handled"
    queue.push(None)  # we are to offer
    for i in range(100):
        queue.push(offer(f"flood {i}"))
        queue.push(candidate(str(i)))
    assert drain(queue, 1.0) == [None, offer("flood 99"), candidate("99")]
    assert queue.dropped == 198


def test_offers_are_answered_at_most_one_a_second_and_the_newest_waits() -> None:
    queue = SignalQueue()
    answered = 0
    for n in range(280):  # 35 offers a second for 8 s, taken as fast as they come
        queue.push(offer(str(n)))
        answered += isinstance(queue.take(n / 35), Ready)
        assert len(queue.items) <= 1, "one offer waits at most"
    assert answered <= 2 + 8
    fresh = SignalQueue()
    for sdp in ("a", "b"):
        fresh.push(offer(sdp))
        assert fresh.take(0.0) == Ready(offer(sdp))
    fresh.push(offer("c"))
    assert fresh.take(0.0) == 1.0, "the third waits for the budget"
    fresh.push(offer("d"))
    assert fresh.take(1.0) == Ready(offer("d")), "and is replaced by a newer one"


def test_candidates_and_answers_are_not_held_back_by_the_offer_budget() -> None:
    queue = SignalQueue(rate=1.0, burst=1.0)
    queue.push(offer("a"))
    queue.take(0.0)
    queue.push({"description": {"type": "answer", "sdp": "x"}})
    queue.push(candidate("1"))
    assert len(drain(queue, 0.0)) == 2


def test_at_most_64_signals_wait_and_the_oldest_go() -> None:
    queue = SignalQueue()
    for i in range(100):
        queue.push(candidate(str(i)))
    assert len(queue.items) == 64
    assert queue.take(0.0) == Ready(candidate("36"))
