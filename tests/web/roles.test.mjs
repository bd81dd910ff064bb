// Tests for web/static/watercooler/roles.js: who offers in a pair, and when the offerer offers again.
import assert from "node:assert/strict";
import { test } from "node:test";

import { RETRY_BASE_MS, RETRY_CAP_MS, introduced, reofferDelayMs } from "../../web/static/watercooler/roles.js";

test("a peer listed in welcome is ours to offer to, unless its channel is still open", () => {
  assert.deepEqual(introduced("welcome", false), { role: "offerer", action: "offer" });
  // Rejoined while the old channel still looks open: keep it; its close brings a re-offer.
  assert.deepEqual(introduced("welcome", true), { role: "offerer", action: "keep" });
});

test("a peer announced by peer-joined offers to us; we never initiate", () => {
  assert.deepEqual(introduced("peer-joined", false), { role: "answerer", action: "wait" });
  assert.deepEqual(introduced("peer-joined", true), { role: "answerer", action: "keep" });
});

test("only the offerer offers again, after a growing, capped delay", () => {
  assert.equal(reofferDelayMs("answerer", 0), null);
  assert.equal(reofferDelayMs("answerer", 5), null);
  const delays = [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => reofferDelayMs("offerer", attempt));
  assert.deepEqual(delays.slice(0, 5), [1, 2, 4, 8, 16].map((n) => n * RETRY_BASE_MS));
  assert.ok(delays.every((d) => d !== null && d >= RETRY_BASE_MS && d <= RETRY_CAP_MS));
  assert.equal(delays.at(-1), RETRY_CAP_MS);
});
