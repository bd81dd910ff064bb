// Tests for web/static/watercooler/signalqueue.js: one peer's negotiation, in order, with what an
// offer flood can make us answer bounded. tests/peer_client/test_signal_queue.py: the same rules.
import assert from "node:assert/strict";
import { test } from "node:test";

import { SignalQueue } from "../../web/static/watercooler/signalqueue.js";

/** @param {string} sdp */
const offer = (sdp) => ({ description: { type: "offer", sdp } });
/** @param {string} candidate */
const candidate = (candidate) => ({ candidate: { candidate, sdpMid: "0", sdpMLineIndex: 0 } });

test("signals come out in order", () => {
  const queue = new SignalQueue();
  for (const data of [offer("a"), candidate("1"), candidate("2"), { candidate: null }]) queue.push(data);
  const out = [];
  for (let next = queue.take(0); next; next = queue.take(0)) out.push("data" in next ? next.data : next);
  assert.deepEqual(out, [offer("a"), candidate("1"), candidate("2"), { candidate: null }]);
});

test("a new offer drops what waits before it: only the newest offer is answered", () => {
  const queue = new SignalQueue();
  queue.push(offer("a"));
  assert.deepEqual(queue.take(0), { data: offer("a") }, "being handled");
  for (let i = 0; i < 100; i += 1) {
    queue.push(offer(`flood ${i}`));
    queue.push(candidate(`${i}`));
  }
  assert.deepEqual(queue.take(1), { data: offer("flood 99") });
  assert.deepEqual(queue.take(1), { data: candidate("99") });
  assert.equal(queue.take(1), null);
  assert.equal(queue.dropped, 198);
});

test("offers are answered at most one a second, bursts of two; the newest waits", () => {
  const queue = new SignalQueue();
  let answered = 0;
  // 35 offers a second for 8 s, taken as fast as they come.
  for (let n = 0; n < 280; n += 1) {
    queue.push(offer(`${n}`));
    const next = queue.take((n * 1000) / 35);
    if (next && "data" in next) answered += 1;
    assert.ok(queue.items.length <= 1, "one offer waits at most");
  }
  assert.ok(answered <= 2 + 8, `answered ${answered}`);
  const fresh = new SignalQueue();
  for (const sdp of ["a", "b"]) {
    fresh.push(offer(sdp));
    assert.deepEqual(fresh.take(0), { data: offer(sdp) });
  }
  fresh.push(offer("c"));
  assert.deepEqual(fresh.take(0), { waitMs: 1000 }, "the third waits for the budget");
  fresh.push(offer("d"));
  assert.deepEqual(fresh.take(1000), { data: offer("d") }, "and is replaced by a newer one");
});

test("candidates and answers are not held back by the offer budget", () => {
  const queue = new SignalQueue(1, 1);
  queue.push(offer("a"));
  queue.take(0);
  queue.push({ description: { type: "answer", sdp: "x" } });
  queue.push(candidate("1"));
  assert.ok(queue.take(0));
  assert.ok(queue.take(0));
});

test("at most 64 signals wait: the oldest go", () => {
  const queue = new SignalQueue();
  for (let i = 0; i < 100; i += 1) queue.push(candidate(`${i}`));
  assert.equal(queue.items.length, 64);
  assert.deepEqual(queue.take(0), { data: candidate("36") });
});
