// @ts-check
/**
 * The field rules of the data-channel protocol (docs/protocol.md 2.7): integers, ids, versions,
 * places, short texts, dates and the API's task. Each check returns the value in its normalised
 * form or throws a `FieldError` whose message names the field. Pure: no DOM, no network.
 *
 * These rules are what stands between another peer's message and our state or page, so they
 * must accept nothing a rule does not allow; peer_client/fields.py keeps the same rules, and
 * tests/protocol_fixtures/ holds the cases both must agree on.
 */

/** Columns in board order; `backlog` is the tasks with no sprint. */
export const COLUMNS = /** @type {const} */ (["backlog", "not_started", "in_progress", "testing", "done"]);
/** The API statuses (every column but the backlog). */
export const STATUSES = /** @type {const} */ (["not_started", "in_progress", "testing", "done"]);
export const MAX_ID_CHARS = 64;
export const MAX_AGENT_CHARS = 40;
export const MAX_SNAPSHOT_DRAGS = 20;
export const MAX_TASK_NAME_CHARS = 100;
export const MAX_ASSIGNEE_NAME_CHARS = 150;

/** @typedef {"backlog" | "not_started" | "in_progress" | "testing" | "done"} Column */
/** @typedef {{column: Column, index: number}} Place */
/** Where a pointer is, in board terms: a column and fractions of its width and height. */
/** @typedef {{column: Column, x: number, y: number}} Pointer */
/**
 * A task as the API shows it, in its normalised form (`links` is not kept).
 * @typedef {{
 *   id: number, name: string, sprint: number | null, status: string, position: number,
 *   version: number, description?: string, status_display?: string, assignee?: number | null,
 *   assignee_name?: string | null, started?: string | null, due?: string | null,
 *   completed?: string | null
 * }} Task
 */

/** A field that breaks its rule; the message names the field and the rule. */
export class FieldError extends Error {}

/** @param {string} path @param {string} rule @returns {never} */
function fail(path, rule) {
  throw new FieldError(`${path} ${rule}`);
}

/** @param {unknown} value @returns {value is Record<string, unknown>} */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** @param {Record<string, unknown>} object @param {string} name */
function field(object, name) {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/**
 * An integer from `min` to 2^53 - 1 (JSON `3.0` is the integer 3; `-0` is 0).
 * @param {unknown} value @param {string} path @param {number} min @returns {number}
 */
export function integerFrom(value, path, min) {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    fail(path, `must be an integer from ${min} to 2^53 - 1`);
  }
  return value === 0 ? 0 : value;
}

/** A task id, version, sprint or user id: 1 to 2^53 - 1. @param {unknown} value @param {string} path */
export function positiveId(value, path) {
  return integerFrom(value, path, 1);
}

/** @param {unknown} value @param {string} path @returns {number} */
export function finiteNumber(value, path) {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(path, "must be a finite number");
  return value === 0 ? 0 : value;
}

/** How many code points `text` has, counting no further than `limit + 1`. @param {string} text @param {number} limit */
function codePoints(text, limit) {
  let count = 0;
  for (const _ of text) {
    count += 1;
    if (count > limit) break;
  }
  return count;
}

/**
 * A string of `min` to `max` code points (`max` null: any length).
 * @param {unknown} value @param {string} path @param {number} min @param {number | null} max
 * @returns {string}
 */
export function text(value, path, min, max) {
  if (typeof value !== "string") fail(path, "must be a string");
  const length = codePoints(value, max ?? value.length);
  if (length < min || (max !== null && length > max)) {
    fail(path, max === null ? `must have at least ${min} characters` : `must have ${min} to ${max} characters`);
  }
  return value;
}

// What a short text shown to people may not hold: control characters (C0, DEL, C1), the bidi
// controls that reorder what follows (Unicode's Bidi_Control) and lone surrogates (with the `u`
// flag a pair is one code point, so only a lone half matches).
const UNSHOWABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;

/**
 * `hello.agent`: 1-40 characters, no control or bidi characters, no lone surrogates.
 * @param {unknown} value @param {string} path
 */
export function agent(value, path) {
  const name = text(value, path, 1, MAX_AGENT_CHARS);
  if (UNSHOWABLE.test(name)) fail(path, "must not contain control or bidi characters or lone surrogates");
  return name;
}

/** @param {unknown} value @returns {value is Column} */
export function isColumn(value) {
  return typeof value === "string" && /** @type {readonly string[]} */ (COLUMNS).includes(value);
}

/** @param {unknown} value @param {string} path @returns {Place} */
export function place(value, path) {
  if (!isObject(value)) fail(path, 'must be a place {"column", "index"}');
  const column = field(value, "column");
  if (!isColumn(column)) fail(`${path}.column`, `must be one of ${COLUMNS.join(", ")}`);
  return { column, index: integerFrom(field(value, "index"), `${path}.index`, 0) };
}

/** A fraction: a finite number from 0 to 1. @param {unknown} value @param {string} path @returns {number} */
export function fraction(value, path) {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
    fail(path, "must be a number from 0 to 1");
  }
  return value === 0 ? 0 : value;
}

/**
 * A pointer in board terms: the column under it and how far across (`x`) and down (`y`) that
 * column it is, as fractions, so windows of different sizes put it at the same spot.
 * @param {unknown} value @param {string} path @returns {Pointer}
 */
export function pointer(value, path) {
  if (!isObject(value)) fail(path, 'must be a pointer {"column", "x", "y"}');
  const column = field(value, "column");
  if (!isColumn(column)) fail(`${path}.column`, `must be one of ${COLUMNS.join(", ")}`);
  return { column, x: fraction(field(value, "x"), `${path}.x`), y: fraction(field(value, "y"), `${path}.y`) };
}

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

/** @param {number} year @param {number} month 1-12 */
function daysIn(year, month) {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** null or a calendar date "YYYY-MM-DD" (year 1 to 9999). @param {unknown} value @param {string} path */
export function dateOrNull(value, path) {
  if (value === null) return null;
  const match = typeof value === "string" ? DATE.exec(value) : null;
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  if (!match || year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) {
    fail(path, "must be null or a date YYYY-MM-DD");
  }
  return /** @type {string} */ (value);
}

/** @param {unknown} value @param {string} path */
function idOrNull(value, path) {
  return value === null ? null : integerFrom(value, path, 1);
}

/** @param {unknown} value @param {string} path @param {number | null} max */
function textOrNull(value, path, max) {
  if (value === null) return null;
  if (typeof value !== "string") fail(path, "must be null or a string");
  return text(value, path, 0, max);
}

/**
 * The optional fields of a task: name, check, in the order they are written.
 * @type {[string, (value: unknown, path: string) => unknown][]}
 */
const OPTIONAL_TASK_FIELDS = [
  ["description", (value, path) => text(value, path, 0, null)],
  ["status_display", (value, path) => text(value, path, 0, null)],
  ["assignee", idOrNull],
  ["assignee_name", (value, path) => textOrNull(value, path, MAX_ASSIGNEE_NAME_CHARS)],
  ["started", dateOrNull],
  ["due", dateOrNull],
  ["completed", dateOrNull],
];

/**
 * A task as the API shows it, normalised (only the fields section 2.7 lists; `links` checked and
 * not kept). Used for every task a client keeps: REST answers and board events as well as
 * what peers send, so a bad record never reaches the state.
 * @param {unknown} value @param {string} [path] @returns {Task}
 */
export function task(value, path = "task") {
  if (!isObject(value)) fail(path, "must be the task as the API shows it (an object)");
  const sprint = field(value, "sprint");
  const status = field(value, "status");
  /** @type {Record<string, unknown>} */
  const out = {
    id: positiveId(field(value, "id"), `${path}.id`),
    version: positiveId(field(value, "version"), `${path}.version`),
    name: text(field(value, "name"), `${path}.name`, 0, MAX_TASK_NAME_CHARS),
    sprint: sprint === null ? null : positiveId(sprint, `${path}.sprint`),
    status: typeof status === "string" && /** @type {readonly string[]} */ (STATUSES).includes(status)
      ? status
      : fail(`${path}.status`, `must be one of ${STATUSES.join(", ")}`),
    position: integerFrom(field(value, "position"), `${path}.position`, 0),
  };
  for (const [name, check] of OPTIONAL_TASK_FIELDS) {
    if (Object.hasOwn(value, name)) out[name] = check(value[name], `${path}.${name}`);
  }
  if (Object.hasOwn(value, "links") && !isObject(value.links)) fail(`${path}.links`, "must be an object");
  return /** @type {Task} */ (/** @type {unknown} */ (out));
}

/**
 * A task from a source we trust for its content (the board), or null with the fault logged by
 * the caller: the same rules, so one bad record cannot break what draws it.
 * @param {unknown} value @returns {{task: Task, fault: null} | {task: null, fault: string}}
 */
export function checkTask(value) {
  try {
    return { task: task(value), fault: null };
  } catch (error) {
    if (error instanceof FieldError) return { task: null, fault: error.message };
    throw error;
  }
}
