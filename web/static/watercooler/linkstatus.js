// @ts-check
/**
 * What the connection panel says about one pair of peers: the path its messages take and the
 * state behind it, from facts the mesh knows, and the selected candidate pair read from the
 * connection's stats. Pure: no DOM, no RTCPeerConnection.
 *
 * Paths (docs/protocol.md 2.6):
 * - `connecting`: negotiating a direct link; messages go through the relay meanwhile.
 * - `direct`: an open data channel on a host or server-reflexive pair.
 * - `turn`: an open data channel through a TURN server (still peer to peer for signaling).
 * - `relayed`: no direct link came up in time, or it was lost; messages go through signaling.
 * - `failed`: no open channel and signaling is away, so nothing reaches this peer now.
 * - `closed`: the peer left.
 */

/** @typedef {"connecting" | "direct" | "turn" | "relayed" | "failed" | "closed"} LinkPath */
/**
 * @typedef {{
 *   closed: boolean,
 *   channelOpen: boolean,
 *   candidates: string | null,
 *   gaveUp: string | null,
 *   signalingLive: boolean,
 *   connectionState: string,
 *   iceGatheringState: string,
 * }} LinkFacts
 * `candidates`: "local/remote" candidate types of the selected pair; `gaveUp`: why the pair is
 * relayed (no direct link in time, connection failed, channel closed) or null.
 */

/** @type {Record<LinkPath, string>} */
export const PATH_LABELS = {
  connecting: "connecting",
  direct: "direct",
  turn: "TURN",
  relayed: "relayed",
  failed: "failed",
  closed: "closed",
};

/** @param {LinkFacts} facts @returns {LinkPath} */
export function linkPath(facts) {
  if (facts.closed) return "closed";
  if (facts.channelOpen) return facts.candidates?.split("/").includes("relay") ? "turn" : "direct";
  if (!facts.signalingLive) return "failed";
  return facts.gaveUp ? "relayed" : "connecting";
}

/** What an RTCPeerConnection's `connectionState` means, for people rather than for the spec. */
const CONNECTION_WORDS = {
  new: "not started yet",
  connecting: "trying to connect",
  connected: "connected",
  disconnected: "interrupted",
  failed: "failed",
  closed: "closed",
};

/** @param {string} state */
function connectionWords(state) {
  return Object.hasOwn(CONNECTION_WORDS, state)
    ? CONNECTION_WORDS[/** @type {keyof typeof CONNECTION_WORDS} */ (state)]
    : state;
}

/**
 * The state shown next to the path: what the connection is doing, in words.
 * @param {LinkFacts} facts @returns {string}
 */
export function linkDetail(facts) {
  const path = linkPath(facts);
  const state = connectionWords(facts.connectionState);
  switch (path) {
    case "direct":
      return facts.candidates ? `${state} (${facts.candidates})` : state;
    case "turn":
      return `${state} through a TURN server`;
    case "connecting": {
      const gathering = facts.iceGatheringState === "complete" ? "" : ", finding addresses";
      return `direct link ${state}${gathering}; messages go through signaling meanwhile`;
    }
    case "relayed":
      return `${facts.gaveUp}; messages go through signaling (direct link ${state})`;
    case "failed":
      return "no channel, and signaling is away";
    default:
      return "left";
  }
}

/**
 * The selected candidate pair of a connection's stats (`RTCPeerConnection.getStats()`, or any
 * map of stats records by id): its "local/remote" candidate types ("?" for a type the stats do
 * not give) and its current round trip in ms; null for what the stats do not say.
 * @param {{forEach: (each: (record: any) => void) => void, get: (id: string) => any}} stats
 * @returns {{candidates: string | null, rttMs: number | null}}
 */
export function selectedPair(stats) {
  /** @type {any} */
  let pair = null;
  stats.forEach((record) => {
    if (record.type === "transport" && record.selectedCandidatePairId) {
      pair = stats.get(record.selectedCandidatePairId) ?? pair;
    }
  });
  if (!pair) {
    stats.forEach((record) => {
      if (record.type === "candidate-pair" && record.nominated && record.state === "succeeded") pair = record;
    });
  }
  if (!pair) return { candidates: null, rttMs: null };
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  const rtt = pair.currentRoundTripTime;
  return {
    candidates: `${local?.candidateType ?? "?"}/${remote?.candidateType ?? "?"}`,
    rttMs: typeof rtt === "number" && Number.isFinite(rtt) ? rtt * 1000 : null,
  };
}
