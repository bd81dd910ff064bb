// Tests for web/static/watercooler/ghostmotion.js: how a remote card eases between updates.
import assert from "node:assert/strict";
import { test } from "node:test";

import { EASE_MS, GhostMotion } from "../../web/static/watercooler/ghostmotion.js";

test("before any update there is nothing to draw", () => {
  const motion = new GhostMotion();
  assert.equal(motion.at(0), null);
  assert.equal(motion.settled(0), true);
});

test("the first update puts the card at its spot at once", () => {
  const motion = new GhostMotion();
  motion.aim({ x: 10, y: 20 }, 100);
  assert.deepEqual(motion.at(100), { x: 10, y: 20 });
});

test("the card eases from where it is drawn to the new spot within one frame", () => {
  const motion = new GhostMotion();
  motion.aim({ x: 0, y: 0 }, 0);
  motion.aim({ x: 100, y: 40 }, 1000);
  assert.deepEqual(motion.at(1000), { x: 0, y: 0 }, "it starts where it was");
  const half = motion.at(1000 + EASE_MS / 2);
  assert.ok(half && half.x > 50 && half.x < 100, `ease-out: past halfway at half the time (${half?.x})`);
  assert.equal(motion.settled(1000 + EASE_MS / 2), false);
  assert.deepEqual(motion.at(1000 + EASE_MS), { x: 100, y: 40 }, "there after one frame");
  assert.equal(motion.settled(1000 + EASE_MS), true);
  assert.deepEqual(motion.at(5000), { x: 100, y: 40 });
});

test("an update during an ease starts from the spot drawn then, not from the old target", () => {
  const motion = new GhostMotion();
  motion.aim({ x: 0, y: 0 }, 0);
  motion.aim({ x: 100, y: 0 }, 100);
  const drawn = motion.at(100 + EASE_MS / 2);
  motion.aim({ x: 200, y: 0 }, 100 + EASE_MS / 2);
  assert.deepEqual(motion.at(100 + EASE_MS / 2), drawn);
  assert.deepEqual(motion.at(100 + EASE_MS * 1.5), { x: 200, y: 0 });
  assert.equal(motion.updates, 3);
});
