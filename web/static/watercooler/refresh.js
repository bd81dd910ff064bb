// @ts-check
/**
 * When to ask the board for a task a peer hinted at (docs/protocol.md 2.4). A peer's
 * `task-updated` is only a hint; the page answers it with `GET /api/tasks/{id}/`, and this decides
 * how often (per task id, or `BACKLOG` for the backlog listing): at most one request in flight, at most one per task every interval (hints
 * arriving meanwhile are merged into one later request), for a bounded number of keys at a time,
 * so no peer can make us flood the board. Pure: time is passed in, no timers, no network.
 */

/** The key of the backlog listing, asked for when a hint names a task we do not know (ids are >= 1). */
export const BACKLOG = 0;
/** Minimum time between two requests for the same task. */
export const HINT_FETCH_INTERVAL_MS = 2000;
/** How many different tasks may wait for (or be in) a request at once. */
export const MAX_HINTED_TASKS = 20;

/** @typedef {{last: number, queued: boolean, inFlight: boolean, again: boolean}} Entry */

export class RefreshLimiter {
  constructor(intervalMs = HINT_FETCH_INTERVAL_MS, maxTasks = MAX_HINTED_TASKS) {
    this.intervalMs = intervalMs;
    this.maxTasks = maxTasks;
    /** @type {Map<number, Entry>} */
    this.entries = new Map();
  }

  /**
   * A hint for task `id`: the delay after which to fetch it, or null when a fetch is already
   * coming (the hint is merged into it) or too many tasks are waiting (the hint is dropped).
   * @param {number} id @param {number} now ms
   * @returns {number | null}
   */
  hint(id, now) {
    let entry = this.entries.get(id);
    if (!entry) {
      if (this.entries.size >= this.maxTasks) this.prune(now);
      if (this.entries.size >= this.maxTasks) return null;
      entry = { last: -Infinity, queued: false, inFlight: false, again: false };
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

  /** Forget tasks with nothing waiting whose interval is over. @param {number} now */
  prune(now) {
    for (const [id, entry] of this.entries) {
      if (!entry.queued && !entry.inFlight && entry.last + this.intervalMs <= now) this.entries.delete(id);
    }
  }
}
