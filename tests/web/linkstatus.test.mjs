// Tests for web/static/watercooler/linkstatus.js: the path and state the connection panel shows.
import assert from "node:assert/strict";
import { test } from "node:test";

import { PATH_LABELS, linkDetail, linkPath, selectedPair } from "../../web/static/watercooler/linkstatus.js";

/** @param {Partial<import("../../web/static/watercooler/linkstatus.js").LinkFacts>} facts */
function link(facts = {}) {
  return {
    closed: false, channelOpen: false, candidates: null, gaveUp: null, signalingLive: true,
    connectionState: "new", iceGatheringState: "gathering", ...facts,
  };
}

test("a pair still negotiating is connecting, and says it relays meanwhile", () => {
  assert.equal(linkPath(link()), "connecting");
  assert.equal(
    linkDetail(link({ connectionState: "connecting" })),
    "direct link trying to connect, finding addresses; messages go through signaling meanwhile",
  );
  assert.equal(
    linkDetail(link({ connectionState: "new", iceGatheringState: "complete" })),
    "direct link not started yet; messages go through signaling meanwhile",
  );
});

test("an open channel is direct, or TURN when the selected pair goes through a relay server", () => {
  assert.equal(linkPath(link({ channelOpen: true, candidates: "host/host" })), "direct");
  assert.equal(linkPath(link({ channelOpen: true, candidates: null })), "direct");
  assert.equal(linkPath(link({ channelOpen: true, candidates: "relay/host" })), "turn");
  assert.equal(linkPath(link({ channelOpen: true, candidates: "host/relay" })), "turn");
  assert.equal(PATH_LABELS.turn, "TURN");
  assert.match(linkDetail(link({ channelOpen: true, connectionState: "connected", candidates: "host/host" })), /connected \(host\/host\)/);
});

test("a pair given up on for direct is relayed, and the state says why, not just 'new'", () => {
  const relayed = link({ gaveUp: "no direct link within 10 s" });
  assert.equal(linkPath(relayed), "relayed");
  assert.equal(
    linkDetail(relayed),
    "no direct link within 10 s; messages go through signaling (direct link not started yet)",
  );
});

test("an open channel wins over an earlier give-up, and an open channel survives signaling's absence", () => {
  assert.equal(linkPath(link({ gaveUp: "connection failed", channelOpen: true })), "direct");
  assert.equal(linkPath(link({ channelOpen: true, signalingLive: false })), "direct");
});

test("no channel and no signaling: nothing reaches the peer, the pair has failed", () => {
  assert.equal(linkPath(link({ signalingLive: false })), "failed");
  assert.equal(linkPath(link({ signalingLive: false, gaveUp: "connection failed" })), "failed");
  assert.equal(linkPath(link({ closed: true, channelOpen: true })), "closed");
});

test("the selected candidate pair and its round trip come from the connection's stats", () => {
  const stats = new Map([
    ["T1", { id: "T1", type: "transport", selectedCandidatePairId: "CP2" }],
    ["CP1", { id: "CP1", type: "candidate-pair", localCandidateId: "L1", remoteCandidateId: "R1", currentRoundTripTime: 0.5 }],
    ["CP2", { id: "CP2", type: "candidate-pair", localCandidateId: "L2", remoteCandidateId: "R1", currentRoundTripTime: 0.0012 }],
    ["L1", { id: "L1", type: "local-candidate", candidateType: "relay" }],
    ["L2", { id: "L2", type: "local-candidate", candidateType: "host" }],
    ["R1", { id: "R1", type: "remote-candidate", candidateType: "prflx" }],
  ]);
  assert.deepEqual(selectedPair(stats), { candidates: "host/prflx", rttMs: 1.2 });
  // Without a transport naming it: the nominated pair that succeeded; no round trip yet.
  stats.delete("T1");
  stats.set("CP1", { ...stats.get("CP1"), nominated: true, state: "succeeded", currentRoundTripTime: undefined });
  assert.deepEqual(selectedPair(stats), { candidates: "relay/prflx", rttMs: null });
  assert.deepEqual(selectedPair(new Map()), { candidates: null, rttMs: null });
});
