// @ts-check
/**
 * When to ask the board for a task a peer hinted at (docs/protocol.md 2.4). A peer's
 * `task-updated` is only a hint; the page answers it with `GET /api/tasks/{id}/`, and this decides
 * how often (per task id, or `BACKLOG` for the backlog listing): at most one request in flight, at
 * most one per task every interval (hints arriving meanwhile are merged into one later request),
 * for a bounded number of tasks at a time, so no peer can make us flood the board. The tasks'
 * slots are shared fairly: one sender holds at most a few of them, so no peer can keep them all
 * busy and have a colleague's hints dropped; and the backlog listing has a slot of its own (a new
 * backlog task reaches others only through its hint). Pure: time is passed in, no timers, no
 * network.
 */

/** The key of the backlog listing, asked for when a hint names a task we do not know (ids are >= 1). */
export const BACKLOG = 0;
/** Minimum time between two requests for the same task. */
export const HINT_FETCH_INTERVAL_MS = 2000;
/** How many different tasks may wait for (or be in) a request at once (the backlog aside). */
export const MAX_HINTED_TASKS = 20;
/** How many of those one sender's hints may hold. */
export const MAX_HINTED_TASKS_PER_SENDER = 5;

/** @typedef {{last: number, queued: boolean, inFlight: boolean, again: boolean, owner: string}} Entry */

export class RefreshLimiter {
  constructor(intervalMs = HINT_FETCH_INTERVAL_MS, maxTasks = MAX_HINTED_TASKS, perSender = MAX_HINTED_TASKS_PER_SENDER) {
    this.intervalMs = intervalMs;
    this.maxTasks = maxTasks;
    this.perSender = perSender;
    /** @type {Map<number, Entry>} */
    this.entries = new Map();
  }

  /**
   * A hint from `sender` for task `id`: the delay after which to fetch it, or null when a fetch
   * is already coming (the hint is merged into it) or there is no slot for it (the hint is
   * dropped: too many tasks wait, or this sender's hints hold its share of them already).
   * @param {number} id @param {number} now ms @param {string} sender
   * @returns {number | null}
   */
  hint(id, now, sender) {
    let entry = this.entries.get(id);
    if (!entry) {
      if (id !== BACKLOG && !this.hasRoom(sender)) this.prune(now);
      if (id !== BACKLOG && !this.hasRoom(sender)) return null;
      entry = { last: -Infinity, queued: false, inFlight: false, again: false, owner: sender };
      this.entries.set(id, entry);
    }
    if (entry.inFlight) {
      entry.again = true;
      return null;
    }
    if (entry.queued) return null;
    entry.queued = true;
    return Math.max(0, entry.last + this.intervalMs - now);
  }

  /** The request for `id` goes out now. @param {number} id @param {number} now */
  begin(id, now) {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.queued = false;
    entry.inFlight = true;
    entry.last = now;
  }

  /**
   * The request for `id` is answered: the delay until the next one if hints came meanwhile, else
   * null.
   * @param {number} id @param {number} now
   * @returns {number | null}
   */
  end(id, now) {
    const entry = this.entries.get(id);
    if (!entry) return null;
    entry.inFlight = false;
    if (!entry.again) return null;
    entry.again = false;
    entry.queued = true;
    return Math.max(0, entry.last + this.intervalMs - now);
  }

  /** Is there a task slot free, and one within `sender`'s share? @param {string} sender */
  hasRoom(sender) {
    let tasks = 0;
    let mine = 0;
    for (const [id, entry] of this.entries) {
      if (id === BACKLOG) continue;
      tasks += 1;
      if (entry.owner === sender) mine += 1;
    }
    return tasks < this.maxTasks && mine < this.perSender;
  }

  /** Forget tasks with nothing waiting whose interval is over. @param {number} now */
  prune(now) {
    for (const [id, entry] of this.entries) {
      if (!entry.queued && !entry.inFlight && entry.last + this.intervalMs <= now) this.entries.delete(id);
    }
  }
}
