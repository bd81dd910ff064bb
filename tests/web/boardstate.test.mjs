// Tests for web/static/watercooler/boardstate.js: version rule, order, drop overlays, drags.
import assert from "node:assert/strict";
import { test } from "node:test";

import { BoardState } from "../../web/static/watercooler/boardstate.js";
import { DRAG_SILENCE_MS, DROP_OVERLAY_MS } from "../../web/static/watercooler/protocol.js";

const SPRINT = 3;

/** @param {number} id @param {object} [fields] */
function task(id, fields = {}) {
  return { id, name: `T${id}`, sprint: SPRINT, status: "not_started", position: 0, version: 1, ...fields };
}

function loaded() {
  const state = new BoardState(SPRINT);
  state.load([
    task(1, { position: 0 }),
    task(2, { position: 1 }),
    task(3, { position: 2 }),
    task(4, { status: "done", position: 0 }),
    task(5, { sprint: null, position: 0 }),
    task(6, { sprint: 99, position: 0 }),
  ]);
  return state;
}

test("load orders each column by position and leaves other sprints' tasks off the board", () => {
  const state = loaded();
  assert.deepEqual(state.columns(), {
    backlog: [5], not_started: [1, 2, 3], in_progress: [], testing: [], done: [4],
  });
});

test("a newer version moves the task to its position; an equal or older one changes nothing", () => {
  const state = loaded();
  assert.equal(state.apply(task(1, { status: "testing", position: 0, version: 2 })), true);
  assert.deepEqual(state.columns().not_started, [2, 3]);
  assert.deepEqual(state.columns().testing, [1]);
  assert.equal(state.apply(task(1, { status: "done", position: 0, version: 2 })), false);
  assert.equal(state.apply(task(1, { status: "done", position: 0, version: 1 })), false);
  assert.deepEqual(state.columns().testing, [1]);
  assert.equal(state.tasks.get(1)?.version, 2);
});

test("a move within a column inserts among the others, like the server", () => {
  const state = loaded();
  state.apply(task(3, { position: 0, version: 2 }));
  assert.deepEqual(state.columns().not_started, [3, 1, 2]);
  state.apply(task(3, { position: 99, version: 3 }));
  assert.deepEqual(state.columns().not_started, [1, 2, 3]);
});

test("an unknown task is added; one moved to another sprint leaves the board", () => {
  const state = loaded();
  assert.equal(state.apply(task(9, { sprint: null, position: 0 })), true);
  assert.deepEqual(state.columns().backlog, [9, 5]);
  state.apply(task(2, { sprint: 99, version: 2 }));
  assert.deepEqual(state.columns().not_started, [1, 3]);
});

test("a deleted task stays deleted even if an older update arrives late", () => {
  const state = loaded();
  assert.equal(state.remove(task(2, { version: 1 })), true);
  assert.equal(state.apply(task(2, { version: 1 })), false);
  assert.deepEqual(state.columns().not_started, [1, 3]);
});

test("a reload keeps states newer than the load", () => {
  const state = loaded();
  state.apply(task(1, { status: "done", position: 1, version: 5 }));
  state.load([task(1, { position: 0, version: 4 }), task(2, { position: 1 })]);
  assert.deepEqual(state.columns().not_started, [2]);
  assert.deepEqual(state.columns().done, [1]);
});

test("a drop overlay shows the card at once and is settled by a newer version", () => {
  const state = loaded();
  assert.equal(state.addOverlay(1, { column: "done", index: 0 }, 1, "peerA", 1000), true);
  assert.deepEqual(state.columns().done, [1, 4]);
  assert.deepEqual(state.columns().not_started, [2, 3]);
  assert.deepEqual(state.placeOf(1), { column: "done", index: 0 });
  // The saved state (version 2) puts it where the server did; the overlay goes.
  state.apply(task(1, { status: "done", position: 1, version: 2 }));
  assert.equal(state.overlays.size, 0);
  assert.deepEqual(state.columns().done, [4, 1]);
});

test("a refused drop is settled by the current task from the 409 and reverts", () => {
  const state = loaded();
  state.addOverlay(1, { column: "testing", index: 0 }, 1, "self", 0);
  state.apply(task(1, { name: "renamed", position: 0, version: 2 })); // someone else's edit
  assert.equal(state.overlays.size, 0);
  assert.deepEqual(state.columns().not_started, [1, 2, 3]);
});

test("an overlay older than the kept state is refused", () => {
  const state = loaded();
  state.apply(task(1, { version: 3 }));
  assert.equal(state.addOverlay(1, { column: "done", index: 0 }, 2, "peerA", 0), false);
  assert.equal(state.addOverlay(99, { column: "done", index: 0 }, 2, "peerA", 0), false);
});

test("an unsettled overlay expires after 10 s and the kept state shows again", () => {
  const state = loaded();
  state.addOverlay(2, { column: "in_progress", index: 0 }, 1, "peerA", 1000);
  assert.equal(state.nextDeadline(), 1000 + DROP_OVERLAY_MS);
  assert.equal(state.expire(1000 + DROP_OVERLAY_MS - 1), false);
  assert.deepEqual(state.columns().in_progress, [2]);
  assert.equal(state.expire(1000 + DROP_OVERLAY_MS), true);
  assert.deepEqual(state.columns().in_progress, []);
  assert.deepEqual(state.columns().not_started, [1, 2, 3]);
  assert.equal(state.nextDeadline(), null);
});

test("drags: start, hover, end, and a peer that leaves takes its drag along", () => {
  const state = loaded();
  const from = { column: "not_started", index: 0 };
  state.startDrag("peerA", { task: 1, from, over: from, by: "peerA", version: 1 });
  assert.equal(state.hoverDrag("peerA", 1, { column: "testing", index: 0 }), "place");
  assert.equal(state.hoverDrag("peerA", 2, { column: "done", index: 0 }), null, "other task");
  assert.equal(state.hoverDrag("peerB", 1, { column: "done", index: 0 }), null, "other peer");
  assert.deepEqual(state.drags.get("peerA")?.over, { column: "testing", index: 0 });
  const pointer = { column: "testing", x: 0.5, y: 0.25 };
  assert.equal(state.hoverDrag("peerA", 1, { column: "testing", index: 0 }, pointer), "pointer", "same place");
  assert.deepEqual(state.drags.get("peerA")?.pointer, pointer);
  assert.equal(state.hoverDrag("peerA", 1, { column: "testing", index: 0 }), "pointer");
  assert.equal(state.drags.get("peerA")?.pointer, null, "a hover without a pointer clears it");
  assert.equal(state.endDrag("peerA", 2), false);
  assert.equal(state.endDrag("peerA", 1), true);
  state.startDrag("peerB", { task: 3, from, over: from, by: "peerB", version: 1 });
  assert.equal(state.forgetPeer("peerB"), true);
  assert.equal(state.drags.size, 0);
});

test("a drop naming a huge version is settled by the board's next state all the same", () => {
  const state = loaded();
  assert.equal(state.addOverlay(1, { column: "done", index: 0 }, Number.MAX_SAFE_INTEGER, "mallory", 0), true);
  assert.deepEqual(state.columns().done, [1, 4]);
  state.apply(task(1, { version: 2 })); // the board's next word on task 1
  assert.equal(state.overlays.has(1), false);
  assert.deepEqual(state.columns().done, [4]);
});

test("drops only name tasks on this board", () => {
  const state = loaded();
  assert.equal(state.isOnBoard(6), false, "another sprint's task");
  assert.equal(state.isOnBoard(42), false, "a task nobody has");
  assert.equal(state.addOverlay(6, { column: "done", index: 0 }, 1, "p", 0), false);
  assert.equal(state.addOverlay(42, { column: "done", index: 0 }, 1, "p", 0), false);
  assert.deepEqual(state.columns().done, [4]);
});

test("a sender's cancel or bye takes away its overlays, and only its own", () => {
  const state = loaded();
  state.addOverlay(1, { column: "done", index: 0 }, 1, "p", 0);
  state.addOverlay(2, { column: "done", index: 0 }, 1, "q", 0);
  assert.equal(state.dropOverlaysBy("p"), true);
  assert.deepEqual([...state.overlays.keys()], [2]);
  assert.equal(state.dropOverlaysBy("p"), false);
});

test("a peer's drag ends after 30 s without a word from that peer; any word keeps it", () => {
  const state = loaded();
  const from = { column: "not_started", index: 0 };
  state.startDrag("peerA", { task: 1, from, over: from, by: "peerA", version: 1, heard: 1000 });
  state.startDrag("self", { task: 2, from, over: from, by: "self", version: 1 });
  assert.equal(state.nextDeadline(), 1000 + DRAG_SILENCE_MS);
  state.heardFrom("peerA", 20_000); // a ping, a hover: anything
  assert.equal(state.expire(1000 + DRAG_SILENCE_MS), false);
  assert.equal(state.nextDeadline(), 20_000 + DRAG_SILENCE_MS);
  assert.equal(state.expire(20_000 + DRAG_SILENCE_MS), true);
  assert.deepEqual([...state.drags.keys()], ["self"], "our own drag never ends by itself");
  assert.equal(state.nextDeadline(), null);
});
