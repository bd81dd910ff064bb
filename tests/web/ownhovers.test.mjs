// Tests for web/static/watercooler/ownhovers.js: when our own drag's hovers go out.
import assert from "node:assert/strict";
import { test } from "node:test";

import { OwnHovers } from "../../web/static/watercooler/ownhovers.js";

/** A page clock and frame queue the test drives by hand. */
function harness() {
  const sent = /** @type {{hover: any, positionOnly: boolean}[]} */ ([]);
  let time = 0;
  /** @type {(() => void)[]} */
  let frames = [];
  const hovers = new OwnHovers((hover, positionOnly) => sent.push({ hover, positionOnly }), {
    now: () => time,
    requestFrame: (callback) => frames.push(callback),
  });
  return {
    hovers,
    sent,
    /** run the frames queued so far, `ms` after the last */
    frame(ms = 1000 / 60) {
      time += ms;
      const due = frames;
      frames = [];
      for (const callback of due) callback();
    },
    get queued() {
      return frames.length;
    },
  };
}

const from = { column: "in_progress", index: 0 };
const testing = { column: "testing", index: 0 };
/** @param {number} x */
const at = (x) => ({ column: "testing", x, y: 0.5 });

test("a change of place goes at once; the pointer alone waits for a frame", () => {
  const page = harness();
  page.hovers.start(7, from);
  page.hovers.update({ task: 7, over: testing, pointer: at(0.1) });
  assert.deepEqual(page.sent.map((s) => s.hover.over), [testing], "the new place, without waiting");
  assert.equal(page.sent[0].positionOnly, false);
  page.frame(40);
  page.hovers.update({ task: 7, over: testing, pointer: at(0.2) });
  page.hovers.update({ task: 7, over: testing, pointer: at(0.3) });
  assert.equal(page.sent.length, 1, "pointer moves wait for the frame");
  page.frame();
  assert.equal(page.sent.length, 2, "many moves between two frames make one hover");
  assert.deepEqual(page.sent[1], { hover: { task: 7, over: testing, pointer: at(0.3) }, positionOnly: true });
});

test("never more than 30 a second, and the latest state always goes out in the end", () => {
  const page = harness();
  page.hovers.start(7, from);
  for (let i = 0; i < 120; i += 1) {
    // A fast sweep: a new place and a new pointer position at every frame (60 a second).
    page.hovers.update({ task: 7, over: { column: "testing", index: i % 3 }, pointer: at(i / 120) });
    page.frame();
  }
  assert.ok(page.sent.length <= 62, `${page.sent.length} hovers in 2 s`);
  assert.ok(page.sent.length >= 58, `${page.sent.length} hovers in 2 s`);
  while (page.queued) page.frame();
  assert.deepEqual(page.sent.at(-1)?.hover.pointer, at(119 / 120));
});

test("the end of the drag drops a hover still waiting", () => {
  const page = harness();
  page.hovers.start(7, from);
  page.hovers.update({ task: 7, over: from, pointer: at(0.5) });
  page.hovers.clear();
  page.frame();
  assert.equal(page.sent.length, 0);
});
