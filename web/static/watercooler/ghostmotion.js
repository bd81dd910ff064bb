// @ts-check
/**
 * How another person's dragged card moves on our page between their pointer updates. Pure: no
 * DOM, time passed in, so `node --test` runs it.
 *
 * Each update aims the card at a new spot; the card eases there from wherever it is drawn now,
 * over at most one frame (`EASE_MS`), so it never trails the latest update by more than a frame
 * and a burst of updates does not pile up into a lag. Positions are in the page's own pixels
 * (the caller turns the sender's board terms into them), so a different window size only changes
 * the numbers, not where on the board the card is.
 */

/** One frame at 60 Hz: the longest the card takes to reach the spot of an update. */
export const EASE_MS = 1000 / 60;

/** @typedef {{x: number, y: number}} Spot */

/** @param {number} t 0..1 @returns {number} */
function easeOut(t) {
  return 1 - (1 - t) * (1 - t);
}

export class GhostMotion {
  constructor() {
    /** @type {Spot | null} where the current ease started */
    this.from = null;
    /** @type {Spot | null} where the latest update put the card */
    this.to = null;
    this.aimedAt = 0;
    /** how many updates it has followed */
    this.updates = 0;
  }

  /** A new update: ease from where the card is drawn now to `spot`. @param {Spot} spot @param {number} now */
  aim(spot, now) {
    this.from = this.at(now) ?? spot;
    this.to = { x: spot.x, y: spot.y };
    this.aimedAt = now;
    this.updates += 1;
  }

  /** Where to draw the card at `now` (null before the first update). @param {number} now @returns {Spot | null} */
  at(now) {
    const { from, to } = this;
    if (!from || !to) return null;
    const t = Math.min(1, Math.max(0, (now - this.aimedAt) / (EASE_MS - 1e-9)));
    const k = easeOut(t);
    return { x: from.x + (to.x - from.x) * k, y: from.y + (to.y - from.y) * k };
  }

  /** Has the card reached the latest update's spot? @param {number} now */
  settled(now) {
    return this.to === null || now - this.aimedAt >= EASE_MS - 1e-9;
  }
}
