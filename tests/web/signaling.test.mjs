// Tests for web/static/watercooler/signaling.js with a fake WebSocket: join with the ticket,
// resume after a drop, a fresh ticket after 4401 or near expiry, reconnect with backoff.
import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

import { SignalingClient } from "../../web/static/watercooler/signaling.js";
import { enableMockTimers } from "./mocktimers.mjs";

/** @type {FakeSocket[]} */
let sockets = [];

class FakeSocket {
  static OPEN = 1;
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    /** @type {any[]} */
    this.sent = [];
    this.onopen = () => {};
    /** @type {(event: {data: string}) => void} */
    this.onmessage = () => {};
    /** @type {(event: {code: number, reason: string}) => void} */
    this.onclose = () => {};
    sockets.push(this);
  }
  /** @param {string} text */
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {}
  open() {
    this.readyState = 1;
    this.onopen();
  }
  /** @param {object} message */
  receive(message) {
    this.onmessage({ data: JSON.stringify(message) });
  }
  /** @param {number} code @param {string} reason */
  drop(code, reason = "") {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Take over the clock of setTimeout: from now on no timer fires by itself, so what the client does
 * after its backoff delay happens when `runTimers` says, not after some wall-clock time.
 */
const holdTimers = () => enableMockTimers(["setTimeout"]);

/** Fire every pending timer (and those they set), then let the promises they start settle. */
async function runTimers() {
  mock.timers.runAll();
  await new Promise((resolve) => setImmediate(resolve));
}

/** @param {{expires?: () => string}} [options] */
function client({ expires = inAnHour } = {}) {
  let tickets = 0;
  /** @type {string[]} */
  const states = [];
  /** @type {any[]} */
  const messages = [];
  const signaling = new SignalingClient({
    getLink: async () => {
      tickets += 1;
      return { url: "ws://signaling/ws", ticket: `fresh-${tickets}`, expires: expires() };
    },
    onMessage: (message) => messages.push(message),
    onState: (state) => states.push(state),
  });
  signaling.backoff.baseMs = 1;
  signaling.backoff.capMs = 4;
  return { signaling, states, messages, tickets: () => tickets };
}

const welcome = { type: "welcome", peer: "P1", sprint: "1", peers: [], iceServers: [], resume: "R1" };

beforeEach(() => {
  sockets = [];
  Object.assign(globalThis, { WebSocket: FakeSocket });
});
afterEach(() => {
  mock.timers.reset();
  delete (/** @type {any} */ (globalThis)).WebSocket;
});

test("joins with the page's ticket, goes live on welcome, and sends only once joined", async () => {
  const { signaling, states, messages, tickets } = client();
  signaling.connect({ url: "ws://signaling/ws", ticket: "from-page", expires: inAnHour() });
  await tick();
  assert.equal(tickets(), 0, "the page's ticket is still good");
  const [ws] = sockets;
  assert.equal(signaling.send({ type: "ping" }), false, "not joined yet");
  ws.open();
  assert.deepEqual(ws.sent, [{ type: "join", ticket: "from-page" }]);
  ws.receive(welcome);
  assert.equal(signaling.state, "live");
  assert.equal(signaling.peer, "P1");
  assert.deepEqual(states, ["connecting", "live"]);
  assert.equal(messages[0].type, "welcome");
  assert.equal(signaling.send({ type: "ping" }), true);
  signaling.close();
});

test("after a drop it reconnects by itself and resumes its peer id", async () => {
  const { signaling, states, messages } = client();
  signaling.connect({ url: "ws://signaling/ws", ticket: "T", expires: inAnHour() });
  await tick();
  sockets[0].open();
  sockets[0].receive(welcome);
  holdTimers();
  sockets[0].drop(1006);
  assert.equal(signaling.state, "off");
  assert.equal(messages.at(-1).type, "disconnected");
  assert.equal(sockets.length, 1, "no new connection before the backoff delay");
  await runTimers();
  assert.equal(sockets.length, 2, "a new connection after the backoff delay");
  sockets[1].open();
  assert.deepEqual(sockets[1].sent[0], { type: "join", ticket: "T", resume: "R1" });
  assert.deepEqual(states, ["connecting", "live", "off", "connecting"]);
  signaling.close();
});

test("a refused ticket (4401) is replaced by a fresh one from the board", async () => {
  const { signaling, tickets } = client();
  signaling.connect({ url: "ws://signaling/ws", ticket: "old", expires: inAnHour() });
  await tick();
  sockets[0].open();
  holdTimers();
  sockets[0].drop(4401, "ticket expired");
  await runTimers();
  assert.equal(tickets(), 1);
  sockets[1].open();
  assert.equal(sockets[1].sent[0].ticket, "fresh-1");
  signaling.close();
});

test("a ticket about to expire is renewed before connecting", async () => {
  const { signaling, tickets } = client();
  signaling.connect({ url: "ws://signaling/ws", ticket: "old", expires: new Date(Date.now() + 1000).toISOString() });
  await tick();
  assert.equal(tickets(), 1);
  sockets[0].open();
  assert.equal(sockets[0].sent[0].ticket, "fresh-1");
  signaling.close();
});

test("close() stops reconnecting", async () => {
  const { signaling } = client();
  signaling.connect({ url: "ws://signaling/ws", ticket: "T", expires: inAnHour() });
  await tick();
  sockets[0].open();
  holdTimers();
  sockets[0].drop(1006);
  signaling.close();
  await runTimers(); // the retry the drop scheduled, had close() not stopped it
  assert.equal(sockets.length, 1);
  assert.equal(signaling.state, "closed");
});
