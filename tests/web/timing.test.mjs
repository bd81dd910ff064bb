// Tests for web/static/watercooler/timing.js: reconnect backoff bounds, hover throttle.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, Throttle } from "../../web/static/watercooler/timing.js";

test("backoff doubles from the base, stays within [d/2, d] and never exceeds the cap", () => {
  for (const r of [0, 0.5, 0.999]) {
    const backoff = new Backoff({ baseMs: 100, capMs: 1000, random: () => r });
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const ceiling of ceilings) {
      const delay = backoff.next();
      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${delay} not in [${ceiling / 2}, ${ceiling}]`);
    }
  }
});

test("backoff jitter spreads delays and reset starts over", () => {
  const backoff = new Backoff({ baseMs: 100, capMs: 1000 });
  const first = new Set(Array.from({ length: 20 }, () => (backoff.reset(), backoff.next())));
  assert.ok(first.size > 1, "jitter gives different delays");
  for (let i = 0; i < 100; i += 1) backoff.next();
  assert.ok(backoff.next() <= 1000);
  backoff.reset();
  assert.ok(backoff.next() <= 100);
});

test("backoff refuses nonsense bounds", () => {
  assert.throws(() => new Backoff({ baseMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: 100, capMs: 50 }), RangeError);
});

test("throttle sends at most once per interval and keeps the latest value for later", () => {
  const throttle = new Throttle(50);
  assert.equal(throttle.offer("a", 1000), "send");
  assert.equal(throttle.offer("b", 1010), "later");
  assert.equal(throttle.offer("c", 1020), "later");
  assert.equal(throttle.waitMs(1020), 30);
  assert.equal(throttle.due(1030), undefined);
  assert.equal(throttle.due(1050), "c");
  assert.equal(throttle.due(1100), undefined);
  assert.equal(throttle.offer("d", 1100), "send");
  throttle.offer("e", 1110);
  throttle.clear();
  assert.equal(throttle.due(1200), undefined);
  assert.equal(throttle.waitMs(1200), 0);
});

test("token bucket: burst, refill at the rate, and a reserve that stops low-priority sends first", async () => {
  const { TokenBucket } = await import("../../web/static/watercooler/timing.js");
  const bucket = new TokenBucket(10, 4); // 10/s, burst 4
  assert.equal(bucket.take(0, 2), true); // 3 left
  assert.equal(bucket.take(0, 2), true); // 2 left
  assert.equal(bucket.take(0, 2), false, "a hover may not dip into the reserve");
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(0), false, "empty");
  assert.equal(bucket.take(100), true, "100 ms at 10/s gives one token back");
  assert.equal(bucket.take(100), false);
  bucket.take(10_000);
  assert.ok(bucket.tokens <= 4, "never above the burst");
});
