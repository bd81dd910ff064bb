// Tests for web/static/watercooler/protocol.js: encoding, validation, ids, duplicates.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MAX_MESSAGE_BYTES,
  MessageIds,
  RecentIds,
  SenderIds,
  columnOf,
  encodeMessage,
  isChannelOnly,
  moveRequest,
  parseMessage,
  randomSession,
} from "../../web/static/watercooler/protocol.js";
import { relayPriority } from "../../web/static/watercooler/peerlink.js";

const task = {
  id: 7, name: "Card", sprint: 3, status: "testing", position: 2, version: 4, description: "",
};
const place = { column: "in_progress", index: 1 };

const valid = [
  { type: "hello", id: "s:1", agent: "web" },
  { type: "hello", id: "s:1", agent: "bot" },
  { type: "snapshot", id: "s:2", drags: [] },
  { type: "snapshot", id: "s:2", drags: [{ task: 7, from: place, over: { column: "done", index: 0 } }] },
  { type: "drag-start", id: "s:3", task: 7, version: 4, from: place },
  { type: "drag-hover", id: "s:4", task: 7, over: { column: "backlog", index: 0 } },
  { type: "drag-drop", id: "s:5", task: 7, to: place, version: 4 },
  { type: "drag-cancel", id: "s:6", task: 7 },
  { type: "task-updated", id: "s:7", task },
  { type: "task-updated", id: "s:7", task: { ...task, sprint: null, status: "not_started" } },
  { type: "bye", id: "s:8" },
  { type: "ping", id: "s:9", t: 12.5 },
  { type: "pong", id: "s:10", t: 0 },
];

test("every message type round-trips through encode and parse", () => {
  for (const message of valid) {
    const text = encodeMessage(/** @type {any} */ (message));
    assert.ok(text);
    const parsed = parseMessage(text);
    assert.equal(parsed.ok, true, `${message.type}: ${JSON.stringify(parsed)}`);
    assert.deepEqual(parsed.ok && parsed.message, message);
  }
});

const malformed = [
  ["not text", new Uint8Array([1, 2])],
  ["not JSON", "{nope"],
  ["an array", "[]"],
  ["a string", '"hello"'],
  ["null", "null"],
  ["no type", JSON.stringify({ id: "s:1" })],
  ["type not a string", JSON.stringify({ type: 3, id: "s:1" })],
  ["no id", JSON.stringify({ type: "bye" })],
  ["empty id", JSON.stringify({ type: "bye", id: "" })],
  ["numeric id", JSON.stringify({ type: "bye", id: 5 })],
  ["bad agent", JSON.stringify({ type: "hello", id: "s:1", agent: "" })],
  ["drags not a list", JSON.stringify({ type: "snapshot", id: "s:1", drags: {} })],
  ["drag without over", JSON.stringify({ type: "snapshot", id: "s:1", drags: [{ task: 1, from: place }] })],
  ["column not in the list", JSON.stringify({ type: "drag-hover", id: "s:1", task: 7, over: { column: "archive", index: 0 } })],
  ["negative index", JSON.stringify({ type: "drag-hover", id: "s:1", task: 7, over: { column: "done", index: -1 } })],
  ["fractional index", JSON.stringify({ type: "drag-hover", id: "s:1", task: 7, over: { column: "done", index: 1.5 } })],
  ["index as string", JSON.stringify({ type: "drag-hover", id: "s:1", task: 7, over: { column: "done", index: "1" } })],
  ["task id as string", JSON.stringify({ type: "drag-cancel", id: "s:1", task: "7" })],
  ["task id zero", JSON.stringify({ type: "drag-cancel", id: "s:1", task: 0 })],
  ["start without version", JSON.stringify({ type: "drag-start", id: "s:1", task: 7, from: place })],
  ["drop with version 0", JSON.stringify({ type: "drag-drop", id: "s:1", task: 7, to: place, version: 0 })],
  ["drop without to", JSON.stringify({ type: "drag-drop", id: "s:1", task: 7, version: 2 })],
  ["task-updated without version", JSON.stringify({ type: "task-updated", id: "s:1", task: { ...task, version: undefined } })],
  ["task-updated with a bad status", JSON.stringify({ type: "task-updated", id: "s:1", task: { ...task, status: "later" } })],
  ["task-updated with a string sprint", JSON.stringify({ type: "task-updated", id: "s:1", task: { ...task, sprint: "3" } })],
  ["ping without t", JSON.stringify({ type: "ping", id: "s:1" })],
  ["pong with t a string", JSON.stringify({ type: "pong", id: "s:1", t: "1" })],
];

test("malformed messages are refused with a reason, not ignored", () => {
  for (const [what, frame] of malformed) {
    const parsed = parseMessage(frame);
    assert.equal(parsed.ok, false, what);
    assert.equal(!parsed.ok && parsed.ignored, false, what);
    assert.ok(!parsed.ok && parsed.reason.length > 0, what);
  }
});

test("a frame over 16 KiB is refused, counting UTF-8 bytes", () => {
  const big = JSON.stringify({ type: "ping", id: "s:1", t: 1, pad: "é".repeat(MAX_MESSAGE_BYTES / 2) });
  assert.ok(big.length < MAX_MESSAGE_BYTES);
  const parsed = parseMessage(big);
  assert.equal(parsed.ok, false);
  assert.match(!parsed.ok ? parsed.reason : "", /larger than/);
});

test("unknown types are ignored, for forward compatibility", () => {
  const parsed = parseMessage(JSON.stringify({ type: "cursor", id: "s:1", x: 1 }));
  assert.equal(parsed.ok, false);
  assert.equal(!parsed.ok && parsed.ignored, true);
  const proto = parseMessage(JSON.stringify({ type: "__proto__", id: "s:1" }));
  assert.equal(!proto.ok && proto.ignored, true);
});

test("encodeMessage refuses our own invalid messages and skips oversized ones", () => {
  assert.throws(() => encodeMessage(/** @type {any} */ ({ type: "drag-cancel", id: "s:1" })), TypeError);
  const huge = { type: "task-updated", id: "s:1", task: { ...task, description: "x".repeat(MAX_MESSAGE_BYTES) } };
  assert.equal(encodeMessage(/** @type {any} */ (huge)), null);
});

test("message ids are <session>:<seq> counting from 1", () => {
  const ids = new MessageIds("abc");
  assert.equal(ids.next(), "abc:1");
  assert.equal(ids.next(), "abc:2");
  assert.throws(() => new MessageIds("a:b"));
  const session = randomSession();
  assert.match(session, /^[A-Za-z0-9_-]{12}$/);
  assert.notEqual(randomSession(), session);
});

test("RecentIds drops duplicates and remembers only the last N ids", () => {
  const recent = new RecentIds(3);
  assert.equal(recent.seen("a:1"), false);
  assert.equal(recent.seen("a:1"), true);
  recent.seen("a:2");
  recent.seen("a:3");
  recent.seen("a:4"); // pushes a:1 out
  assert.equal(recent.seen("a:4"), true);
  assert.equal(recent.seen("a:1"), false);
});

test("the default memory is 1,024 ids", () => {
  const recent = new RecentIds();
  for (let i = 1; i <= 1024; i += 1) recent.seen(`s:${i}`);
  assert.equal(recent.seen("s:1"), true);
  assert.equal(recent.seen("s:1024"), true);
  recent.seen("s:1025"); // the 1,025th id pushes the oldest out
  assert.equal(recent.seen("s:1"), false);
});

test("duplicates are per sender: another peer's use of our ids silences nobody", () => {
  const ids = new SenderIds(3);
  assert.equal(ids.seen("mallory", "dana:5"), false); // Mallory sends Dana's next id first
  assert.equal(ids.seen("dana", "dana:5"), false, "Dana's real message still counts");
  assert.equal(ids.seen("dana", "dana:5"), true, "the same sender twice is a duplicate");
  for (let i = 0; i < 10; i += 1) ids.seen("mallory", `m:${i}`); // fills only Mallory's memory
  assert.equal(ids.seen("dana", "dana:5"), true);
  ids.forget("dana");
  assert.equal(ids.seen("dana", "dana:5"), false, "a sender that left is forgotten");
});

test("columnOf maps a task to the column of this sprint's board", () => {
  assert.equal(columnOf({ sprint: null, status: "not_started" }, 3), "backlog");
  assert.equal(columnOf({ sprint: 3, status: "in_progress" }, 3), "in_progress");
  assert.equal(columnOf({ sprint: 4, status: "in_progress" }, 3), null);
  assert.equal(columnOf({ sprint: 3, status: "backlog" }, 3), null);
});

test("moveRequest builds the move body for a place", () => {
  assert.deepEqual(moveRequest({ column: "backlog", index: 2 }, 3, 5), {
    sprint: null, status: "not_started", position: 2, version: 5,
  });
  assert.deepEqual(moveRequest({ column: "done", index: 0 }, 3, 5), {
    sprint: 3, status: "done", position: 0, version: 5,
  });
});

test("ids of the form <session>:<seq> have a sequence number; others have none", async () => {
  const { idSequence } = await import("../../web/static/watercooler/protocol.js");
  assert.deepEqual(idSequence("abc:12"), { session: "abc", seq: 12 });
  assert.deepEqual(idSequence("a:b:3"), { session: "a:b", seq: 3 });
  for (const id of ["abc", ":3", "abc:", "abc:0", "abc:03", "abc:-1", "abc:1.5", "abc:12345678901234567"]) {
    assert.equal(idSequence(id), null, id);
  }
});

test("a drag message older than one already applied from the same sender is stale", async () => {
  const { SenderOrder } = await import("../../web/static/watercooler/protocol.js");
  const order = new SenderOrder();
  assert.equal(order.stale("ann", "a:5"), false);
  assert.equal(order.stale("ann", "a:7"), false, "a gap is normal: ids count every message sent");
  assert.equal(order.stale("ann", "a:6"), true, "overtaken by a:7");
  assert.equal(order.stale("ann", "a:7"), true);
  assert.equal(order.stale("bob", "a:6"), false, "per sender: Bob cannot make Ann's messages old");
  assert.equal(order.stale("ann", "b:1"), false, "a new session starts over");
  assert.equal(order.stale("ann", "other-id"), false, "ids without a sequence are never stale");
  order.forget("ann");
  assert.equal(order.stale("ann", "b:1"), false);
});

test("isDragState names the messages whose order matters", async () => {
  const { isDragState } = await import("../../web/static/watercooler/protocol.js");
  for (const type of ["snapshot", "drag-start", "drag-hover", "drag-drop", "drag-cancel"]) {
    assert.equal(isDragState(/** @type {any} */ ({ type })), true, type);
  }
  for (const type of ["hello", "task-updated", "bye", "ping", "pong"]) {
    assert.equal(isDragState(/** @type {any} */ ({ type })), false, type);
  }
});

test("ping and pong go over the channel only: never relayed", () => {
  assert.equal(isChannelOnly("ping"), true);
  assert.equal(isChannelOnly("pong"), true);
  assert.equal(relayPriority(/** @type {any} */ ({ type: "ping", id: "s:1", t: 1 }), false), null);
  assert.equal(relayPriority(/** @type {any} */ ({ type: "pong", id: "s:1", t: 1 }), false), null);
  for (const type of ["hello", "snapshot", "drag-start", "drag-drop", "drag-cancel", "task-updated", "bye"]) {
    assert.equal(isChannelOnly(type), false, type);
    assert.equal(relayPriority(/** @type {any} */ ({ type }), false), "normal", type);
  }
  assert.equal(relayPriority(/** @type {any} */ ({ type: "drag-hover" }), true), "position");
});
