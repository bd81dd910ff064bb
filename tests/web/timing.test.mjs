// Tests for web/static/watercooler/timing.js: reconnect backoff bounds, hover pacing, token bucket.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Backoff, HoverPacer } from "../../web/static/watercooler/timing.js";

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

test("hover pacer: at most N a second, decided per frame, always the latest state", () => {
  const pacer = new HoverPacer(30, (a, b) => a === b);
  assert.equal(pacer.frame(0), null, "nothing pending");
  pacer.update("a");
  assert.equal(pacer.frame(0), "a");
  pacer.update("b");
  pacer.update("c");
  assert.equal(pacer.frame(1000 / 60), null, "one frame later is too soon at 30/s");
  assert.equal(pacer.waiting, true);
  assert.equal(pacer.frame(1000 / 30 + 1), "c", "the latest state goes on the next allowed frame");
  assert.equal(pacer.waiting, false);
  pacer.update("c");
  assert.equal(pacer.frame(5000 / 60), null, "the same state is not sent twice");
  assert.equal(pacer.waiting, false);
  pacer.clear();
  pacer.update("c");
  assert.equal(pacer.frame(10_000 / 60), "c", "after clear, a new drag sends it again");
});

test("hover pacer at 60 frames a second sends 30 a second, even with jittery frames", () => {
  const pacer = new HoverPacer(30, () => false);
  let sent = 0;
  for (let frame = 0; frame < 600; frame += 1) {
    const jitter = frame % 3 === 0 ? -0.4 : frame % 3 === 1 ? 0.3 : 0;
    pacer.update(frame);
    if (pacer.frame((frame * 1000) / 60 + jitter) !== null) sent += 1;
  }
  assert.ok(sent >= 299 && sent <= 302, `${sent} hovers in 10 s`);
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
