// @ts-check
/**
 * Time-based rules with the clock and randomness passed in, so tests can pin them. Pure.
 */

/**
 * Capped exponential backoff with jitter for reconnecting: attempt n (from 0) waits a random time
 * in [d/2, d] where d = min(cap, base * 2^n). Half the delay is fixed so a crowd of clients that lost
 * the same server spreads out without anyone retrying immediately.
 */
export class Backoff {
  /** @param {{baseMs?: number, capMs?: number, random?: () => number}} [options] */
  constructor({ baseMs = 250, capMs = 5000, random = Math.random } = {}) {
    if (!(baseMs > 0) || !(capMs >= baseMs)) throw new RangeError("need 0 < baseMs <= capMs");
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.random = random;
    this.attempt = 0;
  }

  /** The delay before the next attempt, in ms; each call counts one attempt. */
  next() {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return ceiling / 2 + (ceiling / 2) * this.random();
  }

  /** Back to the first delay (after a successful connection). */
  reset() {
    this.attempt = 0;
  }
}

/**
 * A token bucket: `rate` tokens per second up to `burst`. `take(now, reserve)` spends one token if
 * more than `reserve` would be left, so low-priority messages can stop before the important ones do.
 */
export class TokenBucket {
  /** @param {number} rate per second @param {number} burst */
  constructor(rate, burst) {
    this.rate = rate;
    this.burst = burst;
    this.tokens = burst;
    this.updated = -Infinity;
  }

  /** @param {number} now ms @param {number} [reserve] tokens to keep for more important messages */
  take(now, reserve = 0) {
    const elapsed = this.updated === -Infinity ? 0 : Math.max(0, now - this.updated) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    this.updated = now;
    if (this.tokens - 1 < reserve) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * When to send the hovers of one drag: at most `perSecond` a second, decided once per animation
 * frame, and always the latest state. `update` hands it the drag's newest state; `frame(now)` (on
 * each animation frame while `waiting`) returns the state to send now, or null. A state equal to
 * the last one sent is not sent again. The bucket holds one and a half sends, so a frame that
 * comes a little early does not push the next send a whole frame later: at 60 frames a second
 * and 30 sends a second, every other frame sends.
 * @template T
 */
export class HoverPacer {
  /** @param {number} perSecond @param {(a: T, b: T) => boolean} same */
  constructor(perSecond, same) {
    this.bucket = new TokenBucket(perSecond, 1.5);
    this.bucket.tokens = 1; // the half send of slack is earned, not given at the start
    this.same = same;
    /** @type {{value: T} | null} */
    this.pending = null;
    /** @type {{value: T} | null} */
    this.sent = null;
  }

  /** The drag's newest state. @param {T} value */
  update(value) {
    this.pending = { value };
  }

  /** Is a state waiting for a frame? */
  get waiting() {
    return this.pending !== null;
  }

  /** An animation frame: the state to send now, if any. @param {number} now @returns {T | null} */
  frame(now) {
    const pending = this.pending;
    if (!pending) return null;
    if (this.sent && this.same(this.sent.value, pending.value)) {
      this.pending = null;
      return null;
    }
    if (!this.bucket.take(now)) return null;
    this.pending = null;
    this.sent = pending;
    return pending.value;
  }

  /** The drag ended: forget what is pending and what was sent. */
  clear() {
    this.pending = null;
    this.sent = null;
  }
}
