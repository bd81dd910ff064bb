// Tests for web/static/watercooler/peerinput.js: what another peer's message may change.
import assert from "node:assert/strict";
import { test } from "node:test";

import { BoardState } from "../../web/static/watercooler/boardstate.js";
import { applyPeerMessage } from "../../web/static/watercooler/peerinput.js";
import { parseMessage } from "../../web/static/watercooler/protocol.js";

const SPRINT = 3;

/** @param {number} id @param {object} [fields] */
function task(id, fields = {}) {
  return { id, name: `T${id}`, sprint: SPRINT, status: "not_started", position: 0, version: 1, ...fields };
}

function board() {
  const state = new BoardState(SPRINT);
  state.load([task(1, { version: 5 }), task(2, { position: 1 }), task(5, { sprint: null }), task(6, { sprint: 99 })]);
  return state;
}

/** A message as it would arrive: encoded, parsed and checked. @param {object} message */
function arrive(message) {
  const parsed = parseMessage(JSON.stringify(message));
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.message;
}

const FORGED = { ...task(1), name: "Forged", status: "done", version: Number.MAX_SAFE_INTEGER };

test("a forged task-updated never replaces the board's state: it is a hint to ask the board", () => {
  const state = board();
  const effect = applyPeerMessage(state, "mallory", arrive({ type: "task-updated", id: "m:1", task: FORGED }), 0);
  assert.deepEqual(effect.hint, { task: 1, version: Number.MAX_SAFE_INTEGER });
  assert.equal(effect.changed, false);
  assert.equal(state.tasks.get(1)?.name, "T1");
  assert.equal(state.version(1), 5);
  // A real board state after it is still kept (the forged version did not raise the bar).
  assert.equal(state.apply(task(1, { status: "testing", version: 6 })), true);
  assert.deepEqual(state.columns().testing, [1]);
});

test("a task-updated for a task nobody has creates no card, only a hint", () => {
  const state = board();
  const phantom = { ...task(4242), name: "Phantom" };
  const effect = applyPeerMessage(state, "mallory", arrive({ type: "task-updated", id: "m:1", task: phantom }), 0);
  assert.deepEqual(effect.hint, { task: 4242, version: 1 });
  assert.equal(state.tasks.has(4242), false);
  assert.equal(state.placeOf(4242), null);
});

test("a task-updated no newer than what we hold asks nothing", () => {
  const state = board();
  const effect = applyPeerMessage(state, "sam", arrive({ type: "task-updated", id: "s:1", task: task(1, { version: 5 }) }), 0);
  assert.equal(effect.hint, null);
});

test("drags name only tasks on this board", () => {
  const state = board();
  const from = { column: "done", index: 0 };
  for (const id of [6, 4242]) {
    const start = applyPeerMessage(state, "p", arrive({ type: "drag-start", id: `p:${id}`, task: id, version: 1, from }), 0);
    assert.equal(start.changed, false);
    const drop = applyPeerMessage(state, "p", arrive({ type: "drag-drop", id: `p:d${id}`, task: id, version: 1, to: from }), 0);
    assert.equal(drop.changed, false);
  }
  applyPeerMessage(state, "p", arrive({ type: "snapshot", id: "p:s", drags: [{ task: 6, from, over: from }, { task: 2, from, over: from }] }), 0);
  assert.deepEqual([...state.drags.values()].map((drag) => drag.task), [2]);
  assert.equal(state.overlays.size, 0);
});

test("a hover without a drag-start shows nothing", () => {
  const state = board();
  const effect = applyPeerMessage(state, "p", arrive({ type: "drag-hover", id: "p:1", task: 2, over: { column: "done", index: 0 } }), 0);
  assert.equal(effect.changed, false);
  assert.equal(state.drags.size, 0);
});

test("a drop is an overlay of its sender; its cancel or bye takes it away", () => {
  const state = board();
  const to = { column: "done", index: 0 };
  applyPeerMessage(state, "p", arrive({ type: "drag-start", id: "p:0", task: 2, version: 1, from: to }), 0);
  applyPeerMessage(state, "p", arrive({ type: "drag-drop", id: "p:1", task: 2, version: 1, to }), 0);
  assert.equal(state.overlays.get(2)?.by, "p");
  applyPeerMessage(state, "q", arrive({ type: "drag-cancel", id: "q:1", task: 2 }), 0);
  assert.equal(state.overlays.has(2), true, "another peer cannot cancel it");
  const bye = applyPeerMessage(state, "p", arrive({ type: "bye", id: "p:2" }), 0);
  assert.equal(bye.changed, true);
  assert.equal(state.overlays.has(2), false);
});

test("hello tells the agent; ping asks for a pong", () => {
  const state = board();
  assert.equal(applyPeerMessage(state, "p", arrive({ type: "hello", id: "p:1", agent: "kanban-cli/1.2" }), 0).agent, "kanban-cli/1.2");
  assert.equal(applyPeerMessage(state, "p", arrive({ type: "ping", id: "p:2", t: 12.5 }), 0).pong, 12.5);
});

test("a hover with a pointer moves only the pointer ghost when the place stays", () => {
  const state = board();
  const from = { column: "not_started", index: 0 };
  applyPeerMessage(state, "ann", arrive({ type: "drag-start", id: "a:1", task: 2, version: 1, from }), 0);
  const pointer = { column: "not_started", x: 0.4, y: 0.2 };
  const same = applyPeerMessage(state, "ann", arrive({ type: "drag-hover", id: "a:2", task: 2, over: from, pointer }), 0);
  assert.deepEqual([same.changed, same.pointer], [false, true], "no redraw of the board, a ghost move");
  assert.deepEqual(state.drags.get("ann")?.pointer, pointer);
  const over = { column: "testing", index: 0 };
  const moved = applyPeerMessage(state, "ann", arrive({ type: "drag-hover", id: "a:3", task: 2, over, pointer: { ...pointer, column: "testing" } }), 0);
  assert.deepEqual([moved.changed, moved.pointer], [true, true]);
  const unstarted = applyPeerMessage(state, "bob", arrive({ type: "drag-hover", id: "b:1", task: 2, over, pointer }), 0);
  assert.deepEqual([unstarted.changed, unstarted.pointer], [false, false], "no drag-start, no ghost");
});

/** The peer picks task `id` up and drops it on Done. @param {BoardState} state @param {string} peer @param {number} id @param {number} now */
function startAndDrop(state, peer, id, now) {
  const from = { column: "not_started", index: 0 };
  const to = { column: "done", index: 0 };
  applyPeerMessage(state, peer, arrive({ type: "drag-start", id: `${peer}:s${id}:${now}`, task: id, version: 1, from }), now);
  return applyPeerMessage(state, peer, arrive({ type: "drag-drop", id: `${peer}:d${id}:${now}`, task: id, version: 9, to }), now);
}

test("a drop of a card its sender does not hold is ignored", () => {
  const state = board();
  for (const id of [1, 2, 5]) {
    const drop = arrive({ type: "drag-drop", id: `m:${id}`, task: id, version: Number.MAX_SAFE_INTEGER, to: { column: "done", index: 0 } });
    assert.equal(applyPeerMessage(state, "mallory", drop, 0).changed, false);
  }
  assert.equal(state.overlays.size, 0, "no card pending");
});

test("a peer shows at most one drop, and repeating one never extends its 10 s", () => {
  const state = board();
  startAndDrop(state, "mallory", 1, 0);
  startAndDrop(state, "mallory", 2, 1000);
  assert.deepEqual([...state.overlays.keys()], [2], "her new drop replaced the old one");
  startAndDrop(state, "mallory", 1, 5000);
  assert.deepEqual([...state.overlays.keys()], [1]);
  assert.equal(state.overlays.get(1)?.until, 10_000, "the deadline of her first drop of it");
  assert.equal(state.expire(10_000), true);
  assert.equal(startAndDrop(state, "mallory", 1, 10_500).changed, true, "her drag ended");
  assert.equal(state.overlays.size, 0, "a card at the same version: no more time");
  // Another person's drop of that card is a repeat at that version too; once the board says
  // something newer, a drop is shown afresh.
  state.apply(task(1, { version: 6 }));
  startAndDrop(state, "sam", 1, 11_000);
  assert.equal(state.overlays.get(1)?.until, 21_000);
});

test("a peer's drop never covers our own drop while it is being saved", () => {
  const state = board();
  state.addOverlay(2, { column: "testing", index: 0 }, 1, "self", 0);
  startAndDrop(state, "mallory", 2, 10);
  assert.equal(state.overlays.get(2)?.by, "self");
  assert.deepEqual(state.overlays.get(2)?.to, { column: "testing", index: 0 });
});

test("a drag whose end was lost goes after 30 s of silence; the sender's messages keep it", () => {
  const state = board();
  const from = { column: "not_started", index: 0 };
  applyPeerMessage(state, "ann", arrive({ type: "drag-start", id: "a:1", task: 2, version: 1, from }), 0);
  applyPeerMessage(state, "ann", arrive({ type: "ping", id: "a:2", t: 1 }), 25_000);
  assert.equal(state.expire(30_000), false, "Ann spoke 5 s ago");
  applyPeerMessage(state, "bob", arrive({ type: "ping", id: "b:1", t: 1 }), 50_000);
  assert.equal(state.expire(55_000), true, "30 s since Ann's last word; Bob's do not count");
  assert.equal(state.drags.size, 0);
});
