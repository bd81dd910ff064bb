// Tests for web/static/watercooler/mesh.js that need no RTCPeerConnection: an answerer's link makes
// no connection until an offer comes, and until then its messages go through the relay.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { PeerMesh } from "../../web/static/watercooler/mesh.js";

/** @type {PeerMesh[]} */
const meshes = [];
afterEach(() => {
  for (const mesh of meshes.splice(0)) {
    clearInterval(mesh.statsTimer);
    for (const link of mesh.links.values()) link.close();
  }
});

function meshWithAnswerer() {
  const relayed = [];
  const linkUps = [];
  const mesh = new PeerMesh({
    sendSignal: () => true,
    sendRelay: (to, data) => relayed.push({ to, type: data.type }) > 0,
    sendReport: () => true,
    onMessage: () => {},
    onLinkUp: (peer, via) => linkUps.push({ peer, via }),
    onChange: () => {},
  });
  meshes.push(mesh);
  mesh.welcome("me", [], []);
  mesh.joined("sam", { id: "2", name: "Sam" }); // we answer Sam: no connection before his offer
  return { mesh, relayed, linkUps };
}

const hello = { type: "hello", id: "s:1", agent: "web" };

test("a peer introduced is reached through the relay before any channel", () => {
  const { mesh, relayed } = meshWithAnswerer();
  assert.equal(mesh.send("sam", hello), true);
  assert.deepEqual(relayed, [{ to: "sam", type: "hello" }]);
});

test("a peer that said bye is relayed nothing more, and its channel's close greets nobody", () => {
  const { mesh, relayed, linkUps } = meshWithAnswerer();
  mesh.saidBye("sam");
  assert.equal(mesh.send("sam", hello), false);
  assert.equal(mesh.broadcast({ type: "drag-cancel", id: "s:2", task: 1 }), 0);
  linkUps.length = 0;
  mesh.links.get("sam")?.lost("channel closed", "closed"); // what its leaving channel does next
  assert.deepEqual(linkUps, [], "no hello or snapshot relayed to a peer on its way out");
  assert.deepEqual(relayed, []);
});

test("a peer introduced again after its bye is reached again", () => {
  const { mesh, relayed } = meshWithAnswerer();
  mesh.saidBye("sam");
  mesh.joined("sam", { id: "2", name: "Sam" });
  assert.equal(mesh.send("sam", hello), true);
  assert.deepEqual(relayed, [{ to: "sam", type: "hello" }]);
});
