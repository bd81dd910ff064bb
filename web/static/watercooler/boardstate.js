// @ts-check
/**
 * What one client believes the board looks like (docs/protocol.md 2.4). Pure: no DOM, no network,
 * time passed in by the caller.
 *
 * - `tasks`: per task, the board-sourced state with the highest version (REST answers, board
 *   events). A state whose version is not higher is ignored. The caller hands this class only
 *   what the board said: a peer's `task-updated` is a hint and never reaches `apply`.
 * - `order`: the ids of each column in display order. A new task state moves its task to
 *   `position` of its column among the others, which is exactly what the board does on save
 *   (siblings are renumbered on the server without a new version, so their own `position` goes stale).
 * - `overlays`: drops shown before the board settled them, until a newer state or a deadline. A
 *   peer has at most one (its latest drop), and no drop of a card at one version is shown longer
 *   than 10 s after the first: repeating it never extends that.
 * - `drags`: cards other people (and this client) are dragging, with where they hover: one per
 *   person (a peer's latest). Drags and drops only name tasks that are on this board (`isOnBoard`).
 *   A peer's drag ends when nothing at all was heard from that peer for 30 s (its end was lost).
 */

import { COLUMNS, DRAG_SILENCE_MS, DROP_OVERLAY_MS, columnOf } from "./protocol.js";

/** @typedef {import("./protocol.js").Task} Task */
/** @typedef {import("./protocol.js").Column} Column */
/** @typedef {import("./protocol.js").Place} Place */
/** @typedef {{task: number, to: Place, version: number, by: string, until: number}} Overlay */
/** @typedef {import("./protocol.js").Pointer} Pointer */
/**
 * A card someone holds: `over` is the place under it, `pointer` (if the sender's hovers carry
 * one) where their pointer is, in board terms.
 * `heard` (a peer's drag): when anything was last heard from that peer.
 * @typedef {{task: number, from: Place, over: Place, by: string, version: number, pointer?: Pointer | null, heard?: number}} Drag
 */

/** Who "we" are in `drags` and `overlays`; every other key is a peer id. */
export const SELF = "self";

/** @returns {Record<Column, number[]>} */
function emptyOrder() {
  return { backlog: [], not_started: [], in_progress: [], testing: [], done: [] };
}

export class BoardState {
  /** @param {number} sprintId */
  constructor(sprintId) {
    this.sprintId = sprintId;
    /** @type {Map<number, Task>} */
    this.tasks = new Map();
    /** @type {Record<Column, number[]>} */
    this.order = emptyOrder();
    /** @type {Map<number, Overlay>} by task id: the latest drop of each task */
    this.overlays = new Map();
    /** @type {Map<string, Drag>} by who drags (a peer id, or "self") */
    this.drags = new Map();
    /** Versions of deleted tasks, so a late update cannot bring one back. @type {Map<number, number>} */
    this.deleted = new Map();
    /**
     * Per task, the deadline of the first peer's drop of it at the version kept then: a drop
     * repeated at that version gets no more time. @type {Map<number, {version: number, until: number}>}
     */
    this.dropDeadlines = new Map();
  }

  /**
   * Replace everything with a full load from the API (the server's order is the truth), keeping any
   * task state that is newer than the load.
   * @param {Task[]} tasks
   */
  load(tasks) {
    const newer = [...this.tasks.values()];
    this.tasks = new Map();
    this.order = emptyOrder();
    const sorted = [...tasks].sort((a, b) => a.position - b.position || a.id - b.id);
    for (const task of sorted) {
      const column = columnOf(task, this.sprintId);
      this.tasks.set(task.id, task);
      if (column) this.order[column].push(task.id);
    }
    for (const task of newer) {
      const loaded = this.tasks.get(task.id);
      if (loaded && task.version > loaded.version) this.apply(task);
    }
    this.settleOverlays();
  }

  /** Is task `id` kept and on this sprint's board (the sprint or the backlog)? @param {number} id */
  isOnBoard(id) {
    const task = this.tasks.get(id);
    return task !== undefined && columnOf(task, this.sprintId) !== null;
  }

  /** @param {number} id */
  version(id) {
    return this.tasks.get(id)?.version ?? this.deleted.get(id) ?? 0;
  }

  /**
   * Keep `task` if it is newer than what we have; returns whether it changed anything.
   * @param {Task} task
   */
  apply(task) {
    if (task.version <= this.version(task.id)) return false;
    this.tasks.set(task.id, task);
    this.dropDeadlines.delete(task.id);
    this.removeFromOrder(task.id);
    const column = columnOf(task, this.sprintId);
    if (column) {
      const ids = this.order[column];
      ids.splice(Math.min(task.position, ids.length), 0, task.id);
    }
    this.settleOverlays();
    return true;
  }

  /** A deletion (board event): forget the task for good. @param {Task} task */
  remove(task) {
    const known = this.version(task.id);
    this.deleted.set(task.id, Math.max(known, task.version));
    this.tasks.delete(task.id);
    this.removeFromOrder(task.id);
    this.overlays.delete(task.id);
    this.dropDeadlines.delete(task.id);
    return known > 0;
  }

  /** @param {number} id */
  removeFromOrder(id) {
    for (const column of COLUMNS) {
      const at = this.order[column].indexOf(id);
      if (at >= 0) this.order[column].splice(at, 1);
    }
  }

  /**
   * Show `task` at `to` until a board state newer than the one kept now arrives, or until
   * `now + DROP_OVERLAY_MS`. A drop older than the kept state is stale and not shown; a drop
   * claiming a newer version than we hold is settled by the next board state all the same, so no
   * version a peer names can make an overlay outlive the board's next word.
   *
   * A peer's drop (docs/protocol.md 2.4) replaces that peer's other overlay (one each), never
   * covers our own drop still being saved, and ends no later than 10 s after the first drop of
   * that card at the version kept now: a repeat never extends it.
   * @param {number} task @param {Place} to @param {number} version @param {string} by @param {number} now
   */
  addOverlay(task, to, version, by, now) {
    const kept = this.version(task);
    if (kept > version || !this.isOnBoard(task)) return false;
    let until = now + DROP_OVERLAY_MS;
    if (by !== SELF) {
      this.dropOverlaysBy(by);
      if (this.overlays.get(task)?.by === SELF) return false;
      const first = this.dropDeadlines.get(task);
      if (first && first.version === kept) until = first.until;
      else this.dropDeadlines.set(task, { version: kept, until });
      if (until <= now) return false;
    }
    this.overlays.set(task, { task, to, version: kept, by, until });
    return true;
  }

  /** Drop every overlay shown for `by` (its drag-cancel or bye). @param {string} by */
  dropOverlaysBy(by) {
    let changed = false;
    for (const [id, overlay] of this.overlays) {
      if (overlay.by === by) changed = this.overlays.delete(id) || changed;
    }
    return changed;
  }

  /** @param {number} task */
  dropOverlay(task) {
    return this.overlays.delete(task);
  }

  /** Drop overlays that a newer state settled. */
  settleOverlays() {
    for (const [id, overlay] of this.overlays) {
      if (this.version(id) > overlay.version) this.overlays.delete(id);
    }
  }

  /**
   * Drop overlays past their deadline, and peers' drags after 30 s without a word from their
   * sender; returns whether any went. @param {number} now
   */
  expire(now) {
    let changed = false;
    for (const [id, overlay] of this.overlays) {
      if (overlay.until <= now) {
        this.overlays.delete(id);
        changed = true;
      }
    }
    for (const [by, drag] of this.drags) {
      if (drag.heard !== undefined && drag.heard + DRAG_SILENCE_MS <= now) {
        this.drags.delete(by);
        changed = true;
      }
    }
    return changed;
  }

  /** The earliest deadline of an overlay or of a peer's silent drag, or null. */
  nextDeadline() {
    let next = null;
    for (const overlay of this.overlays.values()) {
      if (next === null || overlay.until < next) next = overlay.until;
    }
    for (const drag of this.drags.values()) {
      const until = drag.heard === undefined ? null : drag.heard + DRAG_SILENCE_MS;
      if (until !== null && (next === null || until < next)) next = until;
    }
    return next;
  }

  /** Something was heard from `by`: its drag is not silent. @param {string} by @param {number} now */
  heardFrom(by, now) {
    const drag = this.drags.get(by);
    if (drag && drag.heard !== undefined) drag.heard = now;
  }

  /** @param {string} by @param {Drag} drag */
  startDrag(by, drag) {
    this.drags.set(by, drag);
  }

  /**
   * Move a drag: `"place"` if the place under it changed, `"pointer"` if only the pointer did (or
   * nothing), null if `by` is not dragging `task`.
   * @param {string} by @param {number} task @param {Place} over @param {Pointer | null} [pointer]
   * @returns {"place" | "pointer" | null}
   */
  hoverDrag(by, task, over, pointer = null) {
    const drag = this.drags.get(by);
    if (!drag || drag.task !== task) return null;
    const moved = drag.over.column !== over.column || drag.over.index !== over.index;
    drag.over = over;
    drag.pointer = pointer;
    return moved ? "place" : "pointer";
  }

  /** @param {string} by @param {number} [task] only if that is the task being dragged */
  endDrag(by, task) {
    const drag = this.drags.get(by);
    if (!drag || (task !== undefined && drag.task !== task)) return false;
    this.drags.delete(by);
    return true;
  }

  /** Forget everything a peer was doing (it left). @param {string} by */
  forgetPeer(by) {
    return this.drags.delete(by);
  }

  /** The place of a task as shown (overlay first), or null. @param {number} id @returns {Place | null} */
  placeOf(id) {
    const view = this.columns();
    for (const column of COLUMNS) {
      const index = view[column].indexOf(id);
      if (index >= 0) return { column, index };
    }
    return null;
  }

  /**
   * The ids of each column as they should be shown: kept order with overlays applied.
   * @returns {Record<Column, number[]>}
   */
  columns() {
    const view = emptyOrder();
    for (const column of COLUMNS) view[column] = [...this.order[column]];
    for (const overlay of this.overlays.values()) {
      if (!this.tasks.has(overlay.task)) continue;
      for (const column of COLUMNS) {
        const at = view[column].indexOf(overlay.task);
        if (at >= 0) view[column].splice(at, 1);
      }
      const ids = view[overlay.to.column];
      ids.splice(Math.min(overlay.to.index, ids.length), 0, overlay.task);
    }
    return view;
  }
}
