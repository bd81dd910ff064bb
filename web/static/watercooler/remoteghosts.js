// @ts-check
/**
 * Other people's dragged cards drawn under their pointers: one float per person whose drag
 * carries a pointer (docs/protocol.md 2.3, `drag-hover`), eased between their updates
 * (ghostmotion.js) on animation frames. It reads the board state and moves DOM elements through
 * the view; it never sends anything. The in-column ghost (where the card would land) is the
 * view's `render`.
 */

import { GhostMotion } from "./ghostmotion.js";

/** @typedef {import("./boardstate.js").BoardState} BoardState */
/** @typedef {import("./view.js").Person} Person */
/** @typedef {import("./protocol.js").Pointer} Pointer */
/** @typedef {{task: number, pointer: Pointer, float: HTMLElement, motion: GhostMotion}} Float */

export class RemoteGhosts {
  /** @param {import("./view.js").BoardView} view */
  constructor(view) {
    this.view = view;
    /** @type {Map<string, Float>} by peer */
    this.floats = new Map();
    this.frameQueued = false;
  }

  /**
   * Bring the floats in line with the state: one per remote drag with a pointer, aimed at the
   * pointer's latest spot; floats of ended drags go.
   * @param {BoardState} state @param {(peer: string) => Person | undefined} who
   */
  update(state, who) {
    const now = performance.now();
    for (const [peer, entry] of this.floats) {
      const drag = state.drags.get(peer);
      if (!drag || !drag.pointer || drag.task !== entry.task) {
        entry.float.remove();
        this.floats.delete(peer);
      }
    }
    for (const drag of state.drags.values()) {
      if (drag.by === "self" || !drag.pointer) continue;
      const task = state.tasks.get(drag.task);
      if (!task) continue;
      let entry = this.floats.get(drag.by);
      const spot = this.view.spotOf(drag.pointer);
      if (!entry) {
        entry = { task: drag.task, pointer: drag.pointer, float: this.view.remoteFloat(task, who(drag.by)), motion: new GhostMotion() };
        this.floats.set(drag.by, entry);
        if (spot) this.view.placeFloat(entry.float, spot); // no ease from nowhere
      } else if (entry.pointer === drag.pointer) {
        continue; // nothing new from this person
      }
      entry.pointer = drag.pointer;
      if (spot) entry.motion.aim(spot, now);
    }
    this.queueFrame();
  }

  queueFrame() {
    if (this.frameQueued || this.floats.size === 0) return;
    this.frameQueued = true;
    requestAnimationFrame(() => this.draw());
  }

  draw() {
    this.frameQueued = false;
    const now = performance.now();
    let moving = false;
    for (const entry of this.floats.values()) {
      const spot = entry.motion.at(now);
      if (spot) this.view.placeFloat(entry.float, spot);
      if (!entry.motion.settled(now)) moving = true;
      entry.float.dataset.updates = String(entry.motion.updates);
    }
    if (moving) this.queueFrame();
  }

  /** Remove every float (leaving the page). */
  clear() {
    for (const entry of this.floats.values()) entry.float.remove();
    this.floats.clear();
  }
}
