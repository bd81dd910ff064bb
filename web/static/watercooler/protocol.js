// @ts-check
/**
 * The data-channel protocol (docs/protocol.md section 2): message types, encoding, validation and
 * duplicate detection. Pure: no DOM, no network, so `node --test` runs it.
 *
 * A malformed message never reaches the board: `parseMessage` returns `{ok: false}` with a reason
 * naming the field, and the caller logs and drops it. Unknown types are reported as `ignored`
 * (forward compatibility). A valid message comes back normalised: only section 2's fields, so
 * nothing else a peer put in it travels further. What we send is held to the same rules.
 */

import {
  COLUMNS, FieldError, MAX_ID_CHARS, MAX_SNAPSHOT_DRAGS, STATUSES, agent, finiteNumber, isColumn, isObject,
  place, pointer, positiveId, task, text,
} from "./fields.js";
import { MAX_MESSAGE_BYTES, frameFault, relayFrameFault, utf8Length } from "./frames.js";

export { COLUMNS, MAX_MESSAGE_BYTES, STATUSES, isColumn, utf8Length };

/** @typedef {import("./fields.js").Column} Column */
/** @typedef {import("./fields.js").Place} Place */
/** @typedef {import("./fields.js").Pointer} Pointer */
/** @typedef {import("./fields.js").Task} Task */
/** @typedef {{task: number, from: Place, over: Place, pointer?: Pointer}} DragSnapshot */

/**
 * @typedef {{type: "hello", id: string, agent: string}
 *   | {type: "snapshot", id: string, drags: DragSnapshot[]}
 *   | {type: "drag-start", id: string, task: number, version: number, from: Place}
 *   | {type: "drag-hover", id: string, task: number, over: Place, pointer?: Pointer}
 *   | {type: "drag-drop", id: string, task: number, to: Place, version: number}
 *   | {type: "drag-cancel", id: string, task: number}
 *   | {type: "task-updated", id: string, task: Task}
 *   | {type: "bye", id: string}
 *   | {type: "ping", id: string, t: number}
 *   | {type: "pong", id: string, t: number}} Message
 */

/** @typedef {{ok: true, message: Message} | {ok: false, ignored: boolean, reason: string}} Parsed */

export const CHANNEL_LABEL = "watercooler";
/** How many message ids a receiver remembers for each sender, for duplicate detection. */
export const REMEMBERED_IDS = 1024;
/** At most this many `drag-hover` messages a second from one sender (coalesced to frames). */
export const HOVERS_PER_SECOND = 30;
/** How long a `drag-drop` overlay is shown without a newer task state. */
export const DROP_OVERLAY_MS = 10_000;
/** A peer's drag with no message at all from that peer for this long is ended (its end was lost). */
export const DRAG_SILENCE_MS = 30_000;
/** A sender holding a card sends its latest hover again at least this often, so it never looks silent. */
export const DRAG_KEEPALIVE_MS = 10_000;
/** Messages that go over an open channel only: never relayed, and ignored when they come relayed. */
export const CHANNEL_ONLY_TYPES = /** @type {const} */ (["ping", "pong"]);
/** How long a pair may take to open its channel before it is shown as relayed (it relays meanwhile). */
export const DIRECT_LINK_TIMEOUT_MS = 10_000;
/** The messages that say where the sender's drags are: only the latest of them counts. */
export const DRAG_STATE_TYPES = /** @type {const} */ (["snapshot", "drag-start", "drag-hover", "drag-drop", "drag-cancel"]);

export const MESSAGE_TYPES = /** @type {const} */ ([
  "hello", "snapshot", "drag-start", "drag-hover", "drag-drop", "drag-cancel", "task-updated",
  "bye", "ping", "pong",
]);

/** @param {Record<string, unknown>} m @param {string} name */
function get(m, name) {
  return Object.hasOwn(m, name) ? m[name] : undefined;
}

/** @param {unknown} value @returns {DragSnapshot} */
function dragSnapshot(value) {
  if (!isObject(value)) throw new FieldError("drags must be a list of drags {task, from, over}");
  return withPointer(
    {
      task: positiveId(get(value, "task"), "drags.task"),
      from: place(get(value, "from"), "drags.from"),
      over: place(get(value, "over"), "drags.over"),
    },
    value,
    "drags.pointer",
  );
}

/**
 * `fields` with the optional `pointer` of `m` checked and added (left out when `m` has none).
 * @template {object} T @param {T} fields @param {Record<string, unknown>} m @param {string} path
 * @returns {T & {pointer?: Pointer}}
 */
function withPointer(fields, m, path) {
  return Object.hasOwn(m, "pointer") ? { ...fields, pointer: pointer(m.pointer, path) } : fields;
}

/**
 * Each type's fields, checked and normalised (docs/protocol.md 2.3 and 2.7). A check throws a
 * FieldError naming the field.
 * @type {Record<string, (m: Record<string, unknown>) => Record<string, unknown>>}
 */
const FIELDS = {
  hello: (m) => ({ agent: agent(get(m, "agent"), "agent") }),
  snapshot: (m) => {
    const drags = get(m, "drags");
    if (!Array.isArray(drags) || drags.length > MAX_SNAPSHOT_DRAGS) {
      throw new FieldError(`drags must be a list of at most ${MAX_SNAPSHOT_DRAGS} drags`);
    }
    return { drags: drags.map(dragSnapshot) };
  },
  "drag-start": (m) => ({
    task: positiveId(get(m, "task"), "task"),
    version: positiveId(get(m, "version"), "version"),
    from: place(get(m, "from"), "from"),
  }),
  "drag-hover": (m) =>
    withPointer({ task: positiveId(get(m, "task"), "task"), over: place(get(m, "over"), "over") }, m, "pointer"),
  "drag-drop": (m) => ({
    task: positiveId(get(m, "task"), "task"),
    to: place(get(m, "to"), "to"),
    version: positiveId(get(m, "version"), "version"),
  }),
  "drag-cancel": (m) => ({ task: positiveId(get(m, "task"), "task") }),
  "task-updated": (m) => ({ task: task(get(m, "task"), "task") }),
  bye: () => ({}),
  ping: (m) => ({ t: finiteNumber(get(m, "t"), "t") }),
  pong: (m) => ({ t: finiteNumber(get(m, "t"), "t") }),
};

/**
 * Check an already-decoded value against section 2; a valid one comes back normalised (a new
 * object with only the fields section 2 defines).
 * @param {unknown} value
 * @returns {Parsed}
 */
export function validateMessage(value) {
  if (!isObject(value)) return { ok: false, ignored: false, reason: "not a JSON object" };
  const type = get(value, "type");
  if (typeof type !== "string") return { ok: false, ignored: false, reason: "type must be a string" };
  let id;
  try {
    id = text(get(value, "id"), "id", 1, MAX_ID_CHARS);
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, ignored: false, reason: error.message };
    throw error;
  }
  const check = Object.hasOwn(FIELDS, type) ? FIELDS[type] : undefined;
  if (!check) return { ok: false, ignored: true, reason: `unknown type ${JSON.stringify(type.slice(0, 40))}` };
  try {
    const fields = check(value);
    return { ok: true, message: /** @type {Message} */ (/** @type {unknown} */ ({ type, id, ...fields })) };
  } catch (error) {
    if (error instanceof FieldError) return { ok: false, ignored: false, reason: `${type}: ${error.message}` };
    throw error;
  }
}

/**
 * Decode and check one received frame.
 * @param {unknown} frame what the channel delivered (only strings are valid)
 * @returns {Parsed}
 */
export function parseMessage(frame) {
  if (typeof frame !== "string") return { ok: false, ignored: false, reason: "not a text frame" };
  const fault = frameFault(frame);
  if (fault) return { ok: false, ignored: false, reason: fault };
  let value;
  try {
    value = JSON.parse(frame);
  } catch {
    return { ok: false, ignored: false, reason: "not JSON" };
  }
  return validateMessage(value);
}

/**
 * Decode and check one relayed message, judged on the signaling frame that carried it
 * (docs/protocol.md 2.6): both clients receive that text byte for byte, so they measure the same.
 * @param {string} frame the whole `{"type":"relay","from":…,"data":…}` text as signaling sent it
 * @returns {Parsed}
 */
export function parseRelayed(frame) {
  const fault = relayFrameFault(frame);
  if (fault) return { ok: false, ignored: false, reason: fault };
  let value;
  try {
    value = JSON.parse(frame);
  } catch {
    return { ok: false, ignored: false, reason: "not JSON" };
  }
  const data = isObject(value) && Object.hasOwn(value, "data") ? value.data : undefined;
  return validateMessage(data);
}

/**
 * Encode a message for the channel. Throws on a message that breaks section 2 (our own bug).
 * Returns null when the message is valid but too large to send (callers skip it: the board's hook
 * event carries the same state).
 * @param {Message} message
 * @returns {string | null}
 */
export function encodeMessage(message) {
  const checked = validateMessage(message);
  if (!checked.ok) throw new TypeError(`refusing to send an invalid message: ${checked.reason}`);
  const text = JSON.stringify(checked.message);
  return utf8Length(text) > MAX_MESSAGE_BYTES ? null : text;
}

/**
 * Gives each outgoing message its `"<session>:<seq>"` id.
 */
export class MessageIds {
  /** @param {string} session random per client start */
  constructor(session) {
    if (!session || session.includes(":")) throw new TypeError("session must be non-empty, without ':'");
    this.session = session;
    this.seq = 0;
  }

  next() {
    this.seq += 1;
    return `${this.session}:${this.seq}`;
  }
}

/** A random session name: 12 URL-safe characters. @param {() => number} [random] */
export function randomSession(random = Math.random) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let out = "";
  for (let i = 0; i < 12; i += 1) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

/**
 * The last `capacity` message ids seen; `seen(id)` says whether an id came before and remembers it.
 */
export class RecentIds {
  constructor(capacity = REMEMBERED_IDS) {
    this.capacity = capacity;
    /** @type {Set<string>} */
    this.ids = new Set();
  }

  /** @param {string} id @returns {boolean} true if `id` was seen already (a duplicate) */
  seen(id) {
    if (this.ids.has(id)) return true;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      // Sets iterate in insertion order: the first one is the oldest.
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return false;
  }
}

/**
 * Duplicate detection keyed by (sender, id): each sender has its own memory of its last ids, so a
 * peer that sends messages with someone else's ids (they are visible to every peer) only fills
 * its own memory and never silences that someone.
 */
export class SenderIds {
  constructor(capacity = REMEMBERED_IDS) {
    this.capacity = capacity;
    /** @type {Map<string, RecentIds>} */
    this.senders = new Map();
  }

  /** @param {string} sender @param {string} id @returns {boolean} true for a duplicate */
  seen(sender, id) {
    let recent = this.senders.get(sender);
    if (!recent) {
      recent = new RecentIds(this.capacity);
      this.senders.set(sender, recent);
    }
    return recent.seen(id);
  }

  /** The sender left: its memory goes with it. @param {string} sender */
  forget(sender) {
    this.senders.delete(sender);
  }
}

/**
 * The sequence number of an id of the form `"<session>:<seq>"`, or null for any other id.
 * @param {string} id @returns {{session: string, seq: number} | null}
 */
export function idSequence(id) {
  const at = id.lastIndexOf(":");
  const digits = id.slice(at + 1);
  if (at < 1 || !/^[1-9][0-9]{0,15}$/.test(digits)) return null;
  const seq = Number(digits);
  return Number.isSafeInteger(seq) ? { session: id.slice(0, at), seq } : null;
}

/**
 * The order of each sender's drag messages. A pair's messages go through the relay until its
 * channel opens and over the channel afterwards, so around the switch a later message can
 * overtake an earlier one. Each drag message says where the sender's drags are now, so one older
 * than a drag message already applied from the same sender is stale: `stale` says so (and
 * remembers the newest otherwise). Per sender, like the duplicate check: no peer can make
 * another's messages look old. Ids not of the form `"<session>:<seq>"` are never stale.
 */
export class SenderOrder {
  constructor() {
    /** @type {Map<string, {session: string, seq: number}>} */
    this.latest = new Map();
  }

  /** @param {string} sender @param {string} id @returns {boolean} */
  stale(sender, id) {
    const sequence = idSequence(id);
    if (!sequence) return false;
    const latest = this.latest.get(sender);
    if (latest && latest.session === sequence.session && sequence.seq <= latest.seq) return true;
    this.latest.set(sender, sequence);
    return false;
  }

  /** The sender left. @param {string} sender */
  forget(sender) {
    this.latest.delete(sender);
  }
}

/**
 * Does a message of this type go over an open channel only? A round trip through signaling
 * measures nothing worth showing, and each relayed one would spend the relay budget that drags
 * and drops need (docs/protocol.md 2.6).
 * @param {string} type
 */
export function isChannelOnly(type) {
  return /** @type {readonly string[]} */ (CHANNEL_ONLY_TYPES).includes(type);
}

/** Is `message` one of the drag messages whose order matters? @param {Message} message */
export function isDragState(message) {
  return /** @type {readonly string[]} */ (DRAG_STATE_TYPES).includes(message.type);
}

/**
 * The board column a task belongs to on sprint `sprintId`'s board, or null if it is not on it.
 * @param {Pick<Task, "sprint" | "status">} task @param {number} sprintId
 * @returns {Column | null}
 */
export function columnOf(task, sprintId) {
  if (task.sprint === null) return "backlog";
  if (task.sprint !== sprintId) return null;
  return isColumn(task.status) && task.status !== "backlog" ? task.status : null;
}

/**
 * The body of `POST /api/tasks/{id}/move/` that puts a task at `place` on sprint `sprintId`.
 * @param {Place} place @param {number} sprintId @param {number} version
 */
export function moveRequest(place, sprintId, version) {
  return place.column === "backlog"
    ? { sprint: null, status: "not_started", position: place.index, version }
    : { sprint: sprintId, status: place.column, position: place.index, version };
}
