// @ts-check
/**
 * The data-channel protocol (docs/protocol.md section 2): message types, encoding, validation and
 * duplicate detection. Pure: no DOM, no network, so `node --test` runs it.
 *
 * A malformed message never reaches the board: `parseMessage` returns `{ok: false}` with a reason
 * and the caller logs and drops it. Unknown types are reported as `ignored` (forward compatibility).
 */

/** @typedef {"backlog" | "not_started" | "in_progress" | "testing" | "done"} Column */
/** @typedef {{column: Column, index: number}} Place */
/** @typedef {{task: number, from: Place, over: Place}} DragSnapshot */

/**
 * A task as the API shows it (only the fields the client relies on are typed).
 * @typedef {{
 *   id: number, name: string, description?: string, sprint: number | null, status: string,
 *   status_display?: string, position: number, assignee?: number | null,
 *   assignee_name?: string | null, started?: string | null, due?: string | null,
 *   completed?: string | null, version: number, links?: object
 * }} Task
 */

/**
 * @typedef {{type: "hello", id: string, agent: "web" | "bot"}
 *   | {type: "snapshot", id: string, drags: DragSnapshot[]}
 *   | {type: "drag-start", id: string, task: number, version: number, from: Place}
 *   | {type: "drag-hover", id: string, task: number, over: Place}
 *   | {type: "drag-drop", id: string, task: number, to: Place, version: number}
 *   | {type: "drag-cancel", id: string, task: number}
 *   | {type: "task-updated", id: string, task: Task}
 *   | {type: "bye", id: string}
 *   | {type: "ping", id: string, t: number}
 *   | {type: "pong", id: string, t: number}} Message
 */

/** @typedef {{ok: true, message: Message} | {ok: false, ignored: boolean, reason: string}} Parsed */

/** Columns in board order; `backlog` is the tasks with no sprint. */
export const COLUMNS = /** @type {const} */ (["backlog", "not_started", "in_progress", "testing", "done"]);
/** The API statuses (every column but the backlog). */
export const STATUSES = /** @type {const} */ (["not_started", "in_progress", "testing", "done"]);
export const CHANNEL_LABEL = "watercooler";
/** Largest frame either side sends or accepts, in UTF-8 bytes. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** How many message ids a receiver remembers for duplicate detection. */
export const REMEMBERED_IDS = 1024;
/** Minimum time between two `drag-hover` messages of one sender. */
export const HOVER_INTERVAL_MS = 50;
/** How long a `drag-drop` overlay is shown without a newer task state. */
export const DROP_OVERLAY_MS = 10_000;
/** How long a pair may take to open its channel before falling back to the relay. */
export const DIRECT_LINK_TIMEOUT_MS = 10_000;

export const MESSAGE_TYPES = /** @type {const} */ ([
  "hello", "snapshot", "drag-start", "drag-hover", "drag-drop", "drag-cancel", "task-updated",
  "bye", "ping", "pong",
]);

const encoder = new TextEncoder();

/** @param {string} text */
export function utf8Length(text) {
  return encoder.encode(text).length;
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {unknown} value @returns {value is number} */
function isTaskId(value) {
  return Number.isSafeInteger(value) && /** @type {number} */ (value) > 0;
}

/** @param {unknown} value @returns {value is number} */
function isVersion(value) {
  return Number.isSafeInteger(value) && /** @type {number} */ (value) >= 1;
}

/** @param {unknown} value @returns {value is Column} */
export function isColumn(value) {
  return typeof value === "string" && /** @type {readonly string[]} */ (COLUMNS).includes(value);
}

/** @param {unknown} value @returns {value is Place} */
export function isPlace(value) {
  return (
    isObject(value) &&
    isColumn(value.column) &&
    Number.isSafeInteger(value.index) &&
    /** @type {number} */ (value.index) >= 0
  );
}

/** @param {unknown} value @returns {value is DragSnapshot} */
function isDragSnapshot(value) {
  return isObject(value) && isTaskId(value.task) && isPlace(value.from) && isPlace(value.over);
}

/**
 * Is `value` a task as the API shows it? Checks what the board relies on.
 * @param {unknown} value @returns {value is Task}
 */
export function isTask(value) {
  if (!isObject(value)) return false;
  const sprint = value.sprint;
  return (
    isTaskId(value.id) &&
    isVersion(value.version) &&
    typeof value.name === "string" &&
    (sprint === null || isTaskId(sprint)) &&
    typeof value.status === "string" &&
    /** @type {readonly string[]} */ (STATUSES).includes(value.status) &&
    Number.isSafeInteger(value.position) &&
    /** @type {number} */ (value.position) >= 0
  );
}

/** @type {Record<string, (m: Record<string, unknown>) => string | null>} */
const CHECKS = {
  hello: (m) => (m.agent === "web" || m.agent === "bot" ? null : "agent must be web or bot"),
  snapshot: (m) =>
    Array.isArray(m.drags) && m.drags.every(isDragSnapshot) ? null : "drags must be a list of drags",
  "drag-start": (m) =>
    !isTaskId(m.task) ? "task must be a task id"
      : !isVersion(m.version) ? "version must be a positive integer"
        : !isPlace(m.from) ? "from must be a place" : null,
  "drag-hover": (m) =>
    !isTaskId(m.task) ? "task must be a task id" : !isPlace(m.over) ? "over must be a place" : null,
  "drag-drop": (m) =>
    !isTaskId(m.task) ? "task must be a task id"
      : !isVersion(m.version) ? "version must be a positive integer"
        : !isPlace(m.to) ? "to must be a place" : null,
  "drag-cancel": (m) => (isTaskId(m.task) ? null : "task must be a task id"),
  "task-updated": (m) => (isTask(m.task) ? null : "task must be a task as the API shows it"),
  bye: () => null,
  ping: (m) => (typeof m.t === "number" && Number.isFinite(m.t) ? null : "t must be a number"),
  pong: (m) => (typeof m.t === "number" && Number.isFinite(m.t) ? null : "t must be a number"),
};

/**
 * Check an already-decoded value against section 2.
 * @param {unknown} value
 * @returns {Parsed}
 */
export function validateMessage(value) {
  if (!isObject(value)) return { ok: false, ignored: false, reason: "not a JSON object" };
  if (typeof value.type !== "string") return { ok: false, ignored: false, reason: "type must be a string" };
  if (typeof value.id !== "string" || value.id === "") {
    return { ok: false, ignored: false, reason: "id must be a non-empty string" };
  }
  const check = Object.hasOwn(CHECKS, value.type) ? CHECKS[value.type] : undefined;
  if (!check) return { ok: false, ignored: true, reason: `unknown type ${JSON.stringify(value.type.slice(0, 40))}` };
  const fault = check(value);
  if (fault) return { ok: false, ignored: false, reason: `${value.type}: ${fault}` };
  return { ok: true, message: /** @type {Message} */ (/** @type {unknown} */ (value)) };
}

/**
 * Decode and check one received frame.
 * @param {unknown} frame what the channel delivered (only strings are valid)
 * @returns {Parsed}
 */
export function parseMessage(frame) {
  if (typeof frame !== "string") return { ok: false, ignored: false, reason: "not a text frame" };
  if (frame.length > MAX_MESSAGE_BYTES || utf8Length(frame) > MAX_MESSAGE_BYTES) {
    return { ok: false, ignored: false, reason: `larger than ${MAX_MESSAGE_BYTES} bytes` };
  }
  let value;
  try {
    value = JSON.parse(frame);
  } catch {
    return { ok: false, ignored: false, reason: "not JSON" };
  }
  return validateMessage(value);
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
  const text = JSON.stringify(message);
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
