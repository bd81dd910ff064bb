// @ts-check
/**
 * Sending our own drag's hovers (docs/protocol.md 2.3): every pointer move hands over the latest
 * place and pointer; at most `HOVERS_PER_SECOND` hovers a second go out, always with the latest
 * state. A change of place goes at once if that rate allows (else on the next frame that does); a
 * move of the pointer alone waits for an animation frame, so many moves between two frames make
 * one hover. It decides when to send; what is sent and to whom is the caller's.
 */

import { HOVERS_PER_SECOND } from "./protocol.js";
import { HoverPacer } from "./timing.js";

/** @typedef {import("./protocol.js").Place} Place */
/** @typedef {import("./protocol.js").Pointer} Pointer */
/** @typedef {{task: number, over: Place, pointer: Pointer | null}} HoverState */
/** @typedef {(hover: HoverState, positionOnly: boolean) => void} SendHover */

/** @param {Place} a @param {Place} b */
function samePlace(a, b) {
  return a.column === b.column && a.index === b.index;
}

/** @param {Pointer | null} a @param {Pointer | null} b */
function samePointer(a, b) {
  return a === b || (a !== null && b !== null && a.column === b.column && a.x === b.x && a.y === b.y);
}

/** @param {HoverState} a @param {HoverState} b */
function sameHover(a, b) {
  return a.task === b.task && samePlace(a.over, b.over) && samePointer(a.pointer, b.pointer);
}

export class OwnHovers {
  /**
   * @param {SendHover} send
   * @param {{now?: () => number, requestFrame?: (callback: () => void) => void}} [clock]
   *   the page's by default (performance.now, requestAnimationFrame); tests pass their own
   */
  constructor(send, { now = () => performance.now(), requestFrame = (callback) => requestAnimationFrame(callback) } = {}) {
    this.send = send;
    this.now = now;
    this.requestFrame = requestFrame;
    /** @type {HoverPacer<HoverState>} */
    this.pacer = new HoverPacer(HOVERS_PER_SECOND, sameHover);
    /** @type {HoverState | null} the last hover sent in this drag */
    this.last = null;
    this.frameQueued = false;
  }

  /** A new drag began at `from` (its drag-start says so). @param {number} task @param {Place} from */
  start(task, from) {
    this.pacer.clear();
    this.last = { task, over: from, pointer: null };
  }

  /** The drag moved. @param {HoverState} hover */
  update(hover) {
    this.pacer.update(hover);
    if (this.last && !samePlace(this.last.over, hover.over)) this.flush();
    if (this.pacer.waiting) this.queueFrame();
  }

  queueFrame() {
    if (this.frameQueued) return;
    this.frameQueued = true;
    this.requestFrame(() => this.frame());
  }

  frame() {
    this.frameQueued = false;
    this.flush();
    if (this.pacer.waiting) this.queueFrame();
  }

  /** Send the latest state now if the rate allows. */
  flush() {
    const hover = this.pacer.frame(this.now());
    if (!hover) return;
    const positionOnly = this.last !== null && this.last.task === hover.task && samePlace(this.last.over, hover.over);
    this.last = hover;
    this.send(hover, positionOnly);
  }

  /** The drag ended: a hover still waiting is not sent (the drop or cancel says where it ended). */
  clear() {
    this.pacer.clear();
    this.last = null;
  }
}
