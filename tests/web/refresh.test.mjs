// Tests for web/static/watercooler/refresh.js: how often a peer's hint makes us ask the board.
import assert from "node:assert/strict";
import { test } from "node:test";

import { BACKLOG, RefreshLimiter } from "../../web/static/watercooler/refresh.js";

test("a first hint fetches at once; hints meanwhile merge into one later fetch", () => {
  const limiter = new RefreshLimiter(2000, 20);
  assert.equal(limiter.hint(7, 0, "p"), 0);
  assert.equal(limiter.hint(7, 1, "p"), null, "already queued: merged");
  limiter.begin(7, 5);
  assert.equal(limiter.hint(7, 10, "p"), null, "in flight: merged into one more");
  assert.equal(limiter.hint(7, 11, "p"), null);
  assert.equal(limiter.end(7, 100), 1905, "one more fetch, a whole interval after the first");
  assert.equal(limiter.hint(7, 200, "p"), null, "that one is queued already");
  limiter.begin(7, 2005);
  assert.equal(limiter.end(7, 2100), null, "no hint came meanwhile: done");
  assert.equal(limiter.hint(7, 2200, "p"), 1805, "the next hint waits for the interval");
});

test("each task has its own limit", () => {
  const limiter = new RefreshLimiter(2000, 20);
  assert.equal(limiter.hint(1, 0, "p"), 0);
  assert.equal(limiter.hint(2, 0, "p"), 0);
});

test("hints for too many different tasks at once are dropped until some are done", () => {
  const limiter = new RefreshLimiter(2000, 3);
  for (const id of [1, 2, 3]) assert.equal(limiter.hint(id, 0, "p"), 0);
  assert.equal(limiter.hint(4, 0, "p"), null, "a fourth task waits for nothing: dropped");
  for (const id of [1, 2, 3]) {
    limiter.begin(id, 0);
    limiter.end(id, 10);
  }
  assert.equal(limiter.hint(4, 1000, "p"), null, "their intervals are not over yet");
  assert.equal(limiter.hint(4, 2000, "p"), 0, "now the idle ones are forgotten");
});

test("one sender's hints hold at most its share of the slots; others keep theirs", () => {
  const limiter = new RefreshLimiter(2000, 20, 5);
  const mallory = Array.from({ length: 20 }, (_, i) => limiter.hint(i + 1, 0, "mallory"));
  assert.deepEqual(mallory, [0, 0, 0, 0, 0, ...Array(15).fill(null)], "five of her twenty");
  assert.equal(limiter.hint(21, 0, "sam"), 0, "Sam's hint still gets a slot");
  assert.equal(limiter.hint(3, 1, "sam"), null, "merged into hers: one request for the task");
  // Kept busy (hinted again every time it is answered), her five never free up: still five.
  for (let now = 0; now < 10_000; now += 300) {
    for (let id = 1; id <= 5; id += 1) {
      limiter.begin(id, now);
      limiter.end(id, now + 10);
      limiter.hint(id, now + 20, "mallory");
    }
    assert.equal(limiter.hint(100 + now, now + 20, "mallory"), null);
  }
});

test("the backlog listing has a slot of its own, even when every task slot is busy", () => {
  const limiter = new RefreshLimiter(2000, 20, 5);
  for (const sender of ["m1", "m2", "m3", "m4"]) {
    for (let i = 0; i < 5; i += 1) assert.equal(limiter.hint(limiter.entries.size + 1, 0, sender), 0);
  }
  assert.equal(limiter.hint(99, 0, "sam"), null, "twenty tasks wait: a twenty-first is dropped");
  assert.equal(limiter.hint(BACKLOG, 0, "sam"), 0, "a task new to us is still looked for");
});
