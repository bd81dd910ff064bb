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
 * At most one send per `intervalMs`, always delivering the latest value: `offer(value, now)`
 * returns "send" (send it now), or "later" (call `due(now)` after `waitMs(now)`, which then returns
 * the value still to send, if any).
 * @template T
 */
export class Throttle {
  /** @param {number} intervalMs */
  constructor(intervalMs) {
    this.intervalMs = intervalMs;
    this.lastSent = -Infinity;
    /** @type {{value: T} | null} */
    this.pending = null;
  }

  /** @param {T} value @param {number} now @returns {"send" | "later"} */
  offer(value, now) {
    if (now - this.lastSent >= this.intervalMs) {
      this.lastSent = now;
      this.pending = null;
      return "send";
    }
    this.pending = { value };
    return "later";
  }

  /** How long until the pending value may go (0 if none is pending). @param {number} now */
  waitMs(now) {
    return this.pending ? Math.max(0, this.lastSent + this.intervalMs - now) : 0;
  }

  /** The pending value if its time has come (and mark it sent). @param {number} now @returns {T | undefined} */
  due(now) {
    if (!this.pending || now - this.lastSent < this.intervalMs) return undefined;
    const { value } = this.pending;
    this.pending = null;
    this.lastSent = now;
    return value;
  }

  /** Forget a pending value (the drag ended). */
  clear() {
    this.pending = null;
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
