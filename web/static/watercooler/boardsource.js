// @ts-check
/**
 * Task states from the board, and nothing else (docs/protocol.md 2.4): every REST answer and
 * board event is checked by section 2.7's rules before it reaches the board state, and a peer's
 * `task-updated` hint is answered by asking the board, rate-limited by refresh.js: the task itself
 * when we know it (`GET /api/tasks/{id}/`), else the backlog listing, where a task new to this board
 * without a board event must be (asking for an id nobody has would only earn a 404). Holds no DOM;
 * its only network is the board's API.
 */

import { checkTask } from "./fields.js";
import { columnOf } from "./protocol.js";
import { BACKLOG, RefreshLimiter } from "./refresh.js";

/** @typedef {import("./protocol.js").Task} Task */

export class BoardSource {
  /**
   * @param {import("./boardstate.js").BoardState} state
   * @param {{task: (id: number) => Promise<unknown>, backlog: () => Promise<unknown[]>}} api
   * @param {number} sprintId
   * @param {() => void} onChange the state changed: redraw
   * @param {(...args: unknown[]) => void} log
   */
  constructor(state, api, sprintId, onChange, log) {
    this.state = state;
    this.api = api;
    this.sprintId = sprintId;
    this.onChange = onChange;
    this.log = log;
    this.refreshes = new RefreshLimiter();
    this.closed = false;
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.timers = new Set();
  }

  /**
   * Keep a task the board answered or announced, if it keeps the field rules and is known or on
   * this board (the sprint or the backlog). Returns the checked task (null if it broke a rule).
   * @param {unknown} value
   * @returns {Task | null}
   */
  keep(value) {
    const { task, fault } = checkTask(value);
    if (!task) {
      console.warn("[watercooler] board task not used:", fault);
      return null;
    }
    if (!this.state.tasks.has(task.id) && columnOf(task, this.sprintId) === null) return task;
    if (this.state.apply(task)) this.onChange();
    return task;
  }

  /**
   * A task event the board sent through signaling (docs/protocol.md 1.5): kept, or, for a
   * deletion, the task forgotten for good.
   * @param {{action?: unknown, task?: unknown}} event
   */
  onTaskEvent(event) {
    if (event.action !== "deleted") {
      this.keep(event.task);
      return;
    }
    const { task, fault } = checkTask(event.task);
    if (task && this.state.remove(task)) this.onChange();
    else if (!task) console.warn("[watercooler] board event not used", fault);
  }

  /** The tasks of a REST load that keep the field rules (a bad record is left out). @param {unknown[]} tasks */
  checkedTasks(tasks) {
    /** @type {Task[]} */
    const good = [];
    for (const value of tasks) {
      const { task, fault } = checkTask(value);
      if (task) good.push(task);
      else console.warn("[watercooler] board task not used:", fault);
    }
    return good;
  }

  /**
   * Peer `sender` hinted that task `id` changed: ask the board, when the limiter allows.
   * @param {number} id @param {string} sender
   */
  hint(id, sender) {
    const key = this.state.tasks.has(id) ? id : BACKLOG;
    const delay = this.refreshes.hint(key, performance.now(), sender);
    if (delay !== null) this.later(key, delay);
  }

  /** @param {number} id @param {number} delay */
  later(id, delay) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.fetch(id);
    }, delay);
    this.timers.add(timer);
  }

  /** @param {number} id a task id, or BACKLOG */
  async fetch(id) {
    if (this.closed) return;
    this.refreshes.begin(id, performance.now());
    try {
      if (id === BACKLOG) {
        for (const task of await this.api.backlog()) this.keep(task);
        return;
      }
      const answer = await this.api.task(id);
      if (answer !== null) {
        this.keep(answer);
      } else {
        const kept = this.state.tasks.get(id);
        // The board has no such task (any more): a kept one was deleted.
        if (kept && this.state.remove(kept)) this.onChange();
      }
    } catch (error) {
      this.log(`fetching task ${id} failed`, error);
    } finally {
      const again = this.refreshes.end(id, performance.now());
      if (again !== null && !this.closed) this.later(id, again);
    }
  }

  close() {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
