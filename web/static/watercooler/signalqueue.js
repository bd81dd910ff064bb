// @ts-check
/**
 * One peer's incoming negotiation, waiting to be applied in order (docs/protocol.md 1.4), with
 * what an answerer may be asked to do bounded. Every offer makes the answerer build a fresh
 * connection and send an answer and its candidates through signaling, whose rate limit closes a
 * client that sends too much (4429): a peer flooding us with offers must not make us exceed it.
 *
 * - A new offer makes every signal still waiting before it moot (older offers and their
 *   candidates): they are dropped, so only the newest offer is answered.
 * - Offers are answered at most `ANSWERS_PER_SECOND` a second per peer (bursts of
 *   `ANSWER_BURST`); a later one waits, and a newer one replaces it meanwhile.
 * - At most `MAX_WAITING_SIGNALS` wait; beyond that the oldest goes.
 *
 * Pure: time is passed in; the caller applies what `take` hands out and waits as it says.
 * peer_client/signal_queue.py keeps the same rules.
 */

export const ANSWERS_PER_SECOND = 1;
export const ANSWER_BURST = 2;
export const MAX_WAITING_SIGNALS = 64;

/** @param {unknown} data @returns {boolean} */
export function isOffer(data) {
  const description = /** @type {any} */ (data)?.description;
  return typeof description === "object" && description !== null && description.type === "offer";
}

export class SignalQueue {
  constructor(rate = ANSWERS_PER_SECOND, burst = ANSWER_BURST, max = MAX_WAITING_SIGNALS) {
    this.rate = rate;
    this.burst = burst;
    this.max = max;
    /** @type {unknown[]} */
    this.items = [];
    this.tokens = burst;
    /** @type {number | null} */
    this.updated = null;
    /** How many signals were dropped (moot, or over the bound). */
    this.dropped = 0;
  }

  /** A signal arrived. @param {unknown} data */
  push(data) {
    if (isOffer(data)) {
      this.dropped += this.items.length;
      this.items = [];
    }
    this.items.push(data);
    while (this.items.length > this.max) {
      this.items.shift();
      this.dropped += 1;
    }
  }

  /** @param {number} now ms */
  refill(now) {
    if (this.updated !== null) this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.updated) / 1000) * this.rate);
    this.updated = now;
  }

  /**
   * The next signal to apply now (`{data}`), how long to wait before asking again (`{waitMs}`:
   * an offer over the answer budget), or null when nothing waits.
   * @param {number} now ms
   * @returns {{data: unknown} | {waitMs: number} | null}
   */
  take(now) {
    if (this.items.length === 0) return null;
    const head = this.items[0];
    if (isOffer(head)) {
      this.refill(now);
      if (this.tokens < 1) return { waitMs: Math.ceil(((1 - this.tokens) / this.rate) * 1000) };
      this.tokens -= 1;
    }
    this.items.shift();
    return { data: head };
  }
}
