// @ts-check
/**
 * Who offers in a pair of peers (docs/protocol.md 1.4), as pure decisions the mesh acts on.
 *
 * The peer that learned of the other from `welcome.peers` is the pair's *offerer*; the one that
 * learned of it from `peer-joined` is the *answerer*. Both are recorded per remote peer and updated
 * on every welcome and peer-joined. The offerer offers whenever it has no usable connection to a
 * present peer; the answerer never initiates and takes every fresh offer as a new connection.
 */

/** @typedef {"offerer" | "answerer"} Role */

/** After a lost direct link, the offerer offers again after 1 s, 2 s, 4 s, … up to 30 s. */
export const RETRY_BASE_MS = 1000;
export const RETRY_CAP_MS = 30_000;
/** A channel open at least this long counts as good: its loss starts the delays over. */
export const STABLE_LINK_MS = 30_000;

/**
 * Signaling introduced a peer: our role in the pair, and whether to keep the link we have, offer
 * with a fresh connection, or wait for the other side's offer.
 * @param {"welcome" | "peer-joined"} via @param {boolean} channelOpen we hold an open channel to it
 * @returns {{role: Role, action: "keep" | "offer" | "wait"}}
 */
export function introduced(via, channelOpen) {
  const role = via === "welcome" ? "offerer" : "answerer";
  // An open channel is kept: if the other side closed it meanwhile, its close brings a re-offer.
  if (channelOpen) return { role, action: "keep" };
  return { role, action: role === "offerer" ? "offer" : "wait" };
}

/**
 * How long the offerer waits before offering again after losing the link, or null if it must not
 * (it is the answerer). `attempt` counts losses since the last stable link, from 0.
 * @param {Role} role @param {number} attempt @returns {number | null}
 */
export function reofferDelayMs(role, attempt) {
  if (role !== "offerer") return null;
  return Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 30));
}
