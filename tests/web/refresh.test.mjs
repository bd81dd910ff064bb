// Tests for web/static/watercooler/refresh.js: how often a peer's hint makes us ask the board.
import assert from "node:assert/strict";
import { test } from "node:test";

import { RefreshLimiter } from "../../web/static/watercooler/refresh.js";

test("a first hint fetches at once; hints meanwhile merge into one later fetch", () => {
  const limiter = new RefreshLimiter(2000, 20);
  assert.equal(limiter.hint(7, 0), 0);
  assert.equal(limiter.hint(7, 1), null, "already queued: merged");
  limiter.begin(7, 5);
  assert.equal(limiter.hint(7, 10), null, "in flight: merged into one more");
  assert.equal(limiter.hint(7, 11), null);
  assert.equal(limiter.end(7, 100), 1905, "one more fetch, a whole interval after the first");
  assert.equal(limiter.hint(7, 200), null, "that one is queued already");
  limiter.begin(7, 2005);
  assert.equal(limiter.end(7, 2100), null, "no hint came meanwhile: done");
  assert.equal(limiter.hint(7, 2200), 1805, "the next hint waits for the interval");
});

test("each task has its own limit", () => {
  const limiter = new RefreshLimiter(2000, 20);
  assert.equal(limiter.hint(1, 0), 0);
  assert.equal(limiter.hint(2, 0), 0);
});

test("hints for too many different tasks at once are dropped until some are done", () => {
  const limiter = new RefreshLimiter(2000, 3);
  for (const id of [1, 2, 3]) assert.equal(limiter.hint(id, 0), 0);
  assert.equal(limiter.hint(4, 0), null, "a fourth task waits for nothing: dropped");
  for (const id of [1, 2, 3]) {
    limiter.begin(id, 0);
    limiter.end(id, 10);
  }
  assert.equal(limiter.hint(4, 1000), null, "their intervals are not over yet");
  assert.equal(limiter.hint(4, 2000), 0, "now the idle ones are forgotten");
});
