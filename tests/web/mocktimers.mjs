// Mock timers across Node versions: Node 20.11+ takes `mock.timers.enable({ apis })`, while the
// Node 18.19+ of Debian 12 takes the list itself. `enableMockTimers` uses whichever form the
// running Node accepts, so the suites run on both.
import { mock } from "node:test";

/**
 * Take over the given timer functions (e.g. ["setTimeout"]) until `mock.timers.reset()`.
 * @param {string[]} apis
 */
export function enableMockTimers(apis) {
  const timers = /** @type {any} */ (mock.timers);
  try {
    timers.enable({ apis });
  } catch (error) {
    // The older form validates its argument as an array of names before enabling anything.
    if (/** @type {{code?: string}} */ (error).code !== "ERR_INVALID_ARG_TYPE") throw error;
    timers.enable(apis);
  }
}
