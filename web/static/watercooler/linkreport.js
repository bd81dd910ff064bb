// @ts-check
/**
 * Link reports (docs/protocol.md 1.8): what this tab tells signaling about its link with each
 * other peer, so the server's logs and metrics can say who linked with whom, how and how fast.
 * Pure: the mesh hands in what happened to a link and a function that sends; no timers, no
 * network, so `node --test` runs it.
 *
 * - What happened to a link is an event: `open` (its channel opened), `timeout` (no channel
 *   `DIRECT_LINK_TIMEOUT_MS` after negotiation began or the link was lost, so the pair stays on
 *   the relay), `failed` (the connection failed) or `closed` (the channel closed while the peer
 *   is still here, and did not say `bye`). `outcomeAfter` turns it into the pair's outcome, or into no change: a pair
 *   already relayed stays relayed when a retry fails, so a pair that cannot link reports
 *   `relayed` once and then keeps quiet until a channel opens.
 * - One report per change of outcome per pair, checked by 1.8's field rules before it goes out
 *   (`checkReport`; a report that breaks them is our bug and throws).
 * - Our own budget, under the server's (5/s, bursts of 40): `REPORT_RATE` a second, bursts of
 *   `REPORT_BURST`. Over it, or while signaling is away, only the pair's latest outcome waits
 *   (one per pair, never a queue); `flush` sends it later, and drops it if it is the outcome
 *   signaling already has from us. So after reconnecting a pair is reported again only if its
 *   outcome changed meanwhile.
 */

import { TokenBucket } from "./timing.js";

export const LINK_OUTCOMES = /** @type {const} */ (["open", "relayed", "failed", "closed"]);
export const CANDIDATE_TYPES = /** @type {const} */ (["host", "srflx", "prflx", "relay"]);
/** `took_ms` and `rtt_ms` go from 0 to this. */
export const MAX_LINK_MS = 3_600_000;
export const MAX_REASON_CHARS = 120;
export const MAX_PEER_CHARS = 64;
/** Our budget for reports, per signaling connection: under the server's 5/s, bursts of 40. */
export const REPORT_RATE = 4;
export const REPORT_BURST = 20;

/** @typedef {(typeof LINK_OUTCOMES)[number]} Outcome */
/** @typedef {"open" | "timeout" | "failed" | "closed"} LinkEvent */
/**
 * What the mesh knows when something happens to a link: `candidates` the selected pair's
 * "local/remote" candidate types, `tookMs` from the first offer to the open channel, `rttMs` the
 * latest round trip, `reason` why it is not open.
 * @typedef {{
 *   event: LinkEvent,
 *   candidates?: string | null,
 *   tookMs?: number | null,
 *   rttMs?: number | null,
 *   reason?: string | null,
 * }} LinkFacts
 */
/**
 * @typedef {{
 *   type: "link", peer: string, outcome: Outcome, path?: string, took_ms?: number,
 *   rtt_ms?: number, reason?: string,
 * }} LinkReport
 */

/**
 * The pair's outcome after `event`, or null when it does not change.
 * @param {Outcome | null} current the pair's outcome so far (null: none yet)
 * @param {LinkEvent} event
 * @returns {Outcome | null}
 */
export function outcomeAfter(current, event) {
  switch (event) {
    case "open":
      return current === "open" ? null : "open";
    case "timeout":
      return current === "open" || current === "relayed" ? null : "relayed";
    case "failed":
      return current === "relayed" || current === "failed" ? null : "failed";
    case "closed":
      return current === "open" || current === null ? "closed" : null;
    default:
      return null;
  }
}

const PRINTABLE = /^(?:[^\p{C}\p{Z}]| )*$/u;

/** @param {string} path @param {string} rule @returns {never} */
function fail(path, rule) {
  throw new TypeError(`link report: ${path} ${rule}`);
}

/** @param {unknown} value */
function isCandidatePath(value) {
  if (typeof value !== "string") return false;
  const types = value.split("/");
  return types.length === 2 && types.every((type) => /** @type {readonly string[]} */ (CANDIDATE_TYPES).includes(type));
}

/** @param {unknown} value */
function isMilliseconds(value) {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value <= MAX_LINK_MS;
}

/**
 * Check a report by 1.8's rules, as the server does; returns it, or throws naming the field.
 * @param {LinkReport} report @returns {LinkReport}
 */
export function checkReport(report) {
  if (report.type !== "link") fail("type", 'must be "link"');
  const peerChars = typeof report.peer === "string" ? [...report.peer].length : 0;
  if (peerChars < 1 || peerChars > MAX_PEER_CHARS) fail("peer", `must be a peer id of 1 to ${MAX_PEER_CHARS} characters`);
  if (!(/** @type {readonly string[]} */ (LINK_OUTCOMES).includes(report.outcome))) fail("outcome", `must be one of ${LINK_OUTCOMES.join(", ")}`);
  if (report.path !== undefined && report.path !== "signaling" && !isCandidatePath(report.path)) {
    fail("path", 'must be "signaling" or "<local>/<remote>" candidate types');
  }
  if (report.took_ms !== undefined && !(Number.isInteger(report.took_ms) && isMilliseconds(report.took_ms))) {
    fail("took_ms", `must be whole milliseconds from 0 to ${MAX_LINK_MS}`);
  }
  if (report.rtt_ms !== undefined && !isMilliseconds(report.rtt_ms)) fail("rtt_ms", `must be milliseconds from 0 to ${MAX_LINK_MS}`);
  if (report.reason !== undefined) {
    const reason = report.reason;
    if (typeof reason !== "string" || [...reason].length > MAX_REASON_CHARS || !PRINTABLE.test(reason)) {
      fail("reason", `must be printable text of at most ${MAX_REASON_CHARS} characters`);
    }
  }
  return report;
}

/** `text` made printable and cut to the limit. @param {string} text */
function printable(text) {
  return [...text.replace(/[\p{C}\p{Z}]/gu, " ")].slice(0, MAX_REASON_CHARS).join("");
}

/**
 * The report of `peer`'s new `outcome`, from the link's facts. Figures out of range, and a path
 * whose candidate types are unknown, are left out rather than sent wrong.
 * @param {string} peer @param {Outcome} outcome @param {LinkFacts} facts @returns {LinkReport}
 */
export function buildReport(peer, outcome, facts) {
  /** @type {LinkReport} */
  const report = { type: "link", peer, outcome };
  if (outcome === "open") {
    if (isCandidatePath(facts.candidates)) report.path = /** @type {string} */ (facts.candidates);
    const took = facts.tookMs == null ? null : Math.round(facts.tookMs);
    if (isMilliseconds(took)) report.took_ms = /** @type {number} */ (took);
    const rtt = facts.rttMs == null ? null : Math.round(facts.rttMs * 10) / 10;
    if (isMilliseconds(rtt)) report.rtt_ms = /** @type {number} */ (rtt);
  } else if (outcome === "relayed") {
    report.path = "signaling";
  }
  if (outcome !== "open" && facts.reason) report.reason = printable(facts.reason);
  return checkReport(report);
}

/** Every pair's outcome, what signaling has from us, what waits to go, and the budget. */
export class LinkReports {
  /** @param {number} [rate] reports a second @param {number} [burst] */
  constructor(rate = REPORT_RATE, burst = REPORT_BURST) {
    this.rate = rate;
    this.budget = new TokenBucket(rate, burst);
    /** @type {Map<string, Outcome>} each pair's current outcome */
    this.outcomes = new Map();
    /** @type {Map<string, Outcome>} the outcome last sent for each pair */
    this.sent = new Map();
    /** @type {Map<string, LinkReport>} the latest report of each pair not sent yet */
    this.pending = new Map();
    /** @type {Set<string>} peers that said `bye`: the end of their link is no outcome to report */
    this.leaving = new Set();
  }

  /**
   * Something happened to the link with `peer`: true if its outcome changed (its report then
   * waits for `flush`).
   * @param {string} peer @param {LinkFacts} facts
   */
  note(peer, facts) {
    const outcome = outcomeAfter(this.outcomes.get(peer) ?? null, facts.event);
    if (outcome === null || this.leaving.has(peer)) return false;
    this.outcomes.set(peer, outcome);
    this.pending.delete(peer); // re-inserted last: the oldest change goes first
    this.pending.set(peer, buildReport(peer, outcome, facts));
    return true;
  }

  /**
   * Send what waits, within the budget, oldest change first. `send` returns false when signaling
   * cannot take it now: the report then waits for the next flush (after reconnecting).
   * @param {number} now ms @param {(report: LinkReport) => boolean} send @returns {number} how many went out
   */
  flush(now, send) {
    let count = 0;
    for (const [peer, report] of [...this.pending]) {
      if (this.sent.get(peer) === report.outcome) {
        this.pending.delete(peer); // changed and changed back while it waited: nothing new
        continue;
      }
      if (!this.budget.take(now)) break;
      if (!send(report)) break;
      this.sent.set(peer, report.outcome);
      this.pending.delete(peer);
      count += 1;
    }
    return count;
  }

  /** How long to wait before flushing again, in ms, or null when nothing waits. */
  retryMs() {
    return this.pending.size ? Math.ceil(1000 / this.rate) : null;
  }

  /** The peer is leaving on purpose: its channel closing next is no outcome to report. @param {string} peer */
  saidBye(peer) {
    this.leaving.add(peer);
    this.pending.delete(peer);
  }

  /** The peer left: its pair is over, nothing about it is sent any more. @param {string} peer */
  forget(peer) {
    this.outcomes.delete(peer);
    this.sent.delete(peer);
    this.pending.delete(peer);
    this.leaving.delete(peer);
  }
}
