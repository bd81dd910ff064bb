// Tests for web/static/watercooler/linkreport.js: when a tab reports a pair's link to signaling,
// what the report says, and that it keeps to docs/protocol.md 1.8's rules and its own budget.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  LinkReports, MAX_LINK_MS, REPORT_BURST, REPORT_RATE, buildReport, checkReport, outcomeAfter,
} from "../../web/static/watercooler/linkreport.js";

const OPENED = { event: "open", candidates: "host/host", tookMs: 48.4, rttMs: 1.234, reason: null };

/** A signaling connection that takes what is sent (or, while away, refuses it), and keeps it. */
function signaling(up = true) {
  /** @type {any[]} */
  const sent = [];
  const send = (/** @type {any} */ report) => {
    if (!up) return false;
    sent.push(report);
    return true;
  };
  return { sent, send };
}

test("a pair's outcome changes on open, on falling back to the relay, on failing and on closing", () => {
  assert.equal(outcomeAfter(null, "open"), "open");
  assert.equal(outcomeAfter(null, "timeout"), "relayed");
  assert.equal(outcomeAfter(null, "failed"), "failed");
  assert.equal(outcomeAfter("open", "failed"), "failed");
  assert.equal(outcomeAfter("open", "closed"), "closed");
  assert.equal(outcomeAfter("relayed", "open"), "open");
  // Lost, and a retry did not bring a channel within the limit: now the pair is relayed.
  assert.equal(outcomeAfter("failed", "timeout"), "relayed");
  assert.equal(outcomeAfter("closed", "timeout"), "relayed");
});

test("a pair that cannot link reports relayed once, however often its retries fail", () => {
  assert.equal(outcomeAfter("relayed", "failed"), null);
  assert.equal(outcomeAfter("relayed", "timeout"), null);
  assert.equal(outcomeAfter("relayed", "closed"), null);
  assert.equal(outcomeAfter("open", "open"), null);
  assert.equal(outcomeAfter("open", "timeout"), null);
  assert.equal(outcomeAfter("failed", "failed"), null);
  assert.equal(outcomeAfter("failed", "closed"), null, "the channel closing after the failure adds nothing");
});

test("an open report names the selected pair, the whole milliseconds to open and the round trip", () => {
  assert.deepEqual(buildReport("p2", "open", OPENED), {
    type: "link", peer: "p2", outcome: "open", path: "host/host", took_ms: 48, rtt_ms: 1.2,
  });
  assert.deepEqual(buildReport("p2", "open", { event: "open", candidates: "srflx/prflx", tookMs: 0, rttMs: 0 }), {
    type: "link", peer: "p2", outcome: "open", path: "srflx/prflx", took_ms: 0, rtt_ms: 0,
  });
});

test("what the stats did not say, or said out of range, is left out rather than sent wrong", () => {
  const report = buildReport("p2", "open", { event: "open", candidates: "?/host", tookMs: MAX_LINK_MS + 1, rttMs: -1 });
  assert.deepEqual(report, { type: "link", peer: "p2", outcome: "open" });
  assert.deepEqual(buildReport("p2", "open", { event: "open", candidates: null, tookMs: null, rttMs: NaN }), {
    type: "link", peer: "p2", outcome: "open",
  });
  assert.deepEqual(buildReport("p2", "open", { event: "open", candidates: "host/host/host", tookMs: MAX_LINK_MS }), {
    type: "link", peer: "p2", outcome: "open", took_ms: MAX_LINK_MS,
  });
});

test("relayed goes through signaling and says why; failed and closed say why", () => {
  const why = "no direct link within 10 s";
  assert.deepEqual(buildReport("p2", "relayed", { event: "timeout", candidates: "host/host", reason: why }), {
    type: "link", peer: "p2", outcome: "relayed", path: "signaling", reason: why,
  });
  assert.deepEqual(buildReport("p2", "failed", { event: "failed", reason: "connection failed" }), {
    type: "link", peer: "p2", outcome: "failed", reason: "connection failed",
  });
  assert.deepEqual(buildReport("p2", "closed", { event: "closed", reason: "channel closed" }), {
    type: "link", peer: "p2", outcome: "closed", reason: "channel closed",
  });
  const odd = buildReport("p2", "failed", { event: "failed", reason: `a\nb\u202e${"x".repeat(200)}` });
  assert.equal(odd.reason, `a b ${"x".repeat(116)}`);
});

test("a report that breaks 1.8's rules is refused before it goes out, naming the field", () => {
  const ok = { type: /** @type {const} */ ("link"), peer: "p2", outcome: /** @type {const} */ ("open") };
  assert.deepEqual(checkReport(ok), ok);
  /** @type {[object, RegExp][]} */
  const cases = [
    [{ peer: "" }, /peer/],
    [{ peer: "p".repeat(65) }, /peer/],
    [{ outcome: "great" }, /outcome/],
    [{ path: "lan/lan" }, /path/],
    [{ path: "host" }, /path/],
    [{ took_ms: 1.5 }, /took_ms/],
    [{ took_ms: -1 }, /took_ms/],
    [{ took_ms: MAX_LINK_MS + 1 }, /took_ms/],
    [{ rtt_ms: "1" }, /rtt_ms/],
    [{ rtt_ms: Infinity }, /rtt_ms/],
    [{ reason: "a\nb" }, /reason/],
    [{ reason: "x".repeat(121) }, /reason/],
  ];
  for (const [change, field] of cases) {
    assert.throws(() => checkReport(/** @type {any} */ ({ ...ok, ...change })), field, JSON.stringify(change));
  }
});

test("one report per change of outcome, never a stream", () => {
  const reports = new LinkReports();
  const out = signaling();
  assert.equal(reports.note("p2", { event: "timeout", reason: "no direct link within 10 s" }), true);
  reports.flush(0, out.send);
  for (let i = 0; i < 5; i += 1) {
    assert.equal(reports.note("p2", { event: "failed", reason: "connection failed" }), false);
    assert.equal(reports.note("p2", { event: "timeout", reason: "no direct link within 10 s" }), false);
    reports.flush(1000 * i, out.send);
  }
  assert.equal(reports.note("p2", OPENED), true);
  assert.equal(reports.note("p2", OPENED), false);
  reports.flush(10_000, out.send);
  assert.deepEqual(out.sent.map((r) => r.outcome), ["relayed", "open"]);
  assert.equal(reports.retryMs(), null);
});

test("over our budget a pair's report waits for the next flush; nothing is lost or doubled", () => {
  assert.ok(REPORT_RATE < 5 && REPORT_BURST < 40, "under the server's limit of 5/s, bursts of 40");
  const reports = new LinkReports();
  const out = signaling();
  const peers = Array.from({ length: REPORT_BURST + 3 }, (_, i) => `p${i}`);
  for (const peer of peers) reports.note(peer, OPENED);
  assert.equal(reports.flush(0, out.send), REPORT_BURST);
  assert.equal(reports.retryMs(), Math.ceil(1000 / REPORT_RATE));
  assert.equal(reports.flush(1, out.send), 0, "no token yet");
  assert.equal(reports.flush(1000 / REPORT_RATE + 1, out.send), 1);
  assert.equal(reports.flush(10_000, out.send), 2);
  assert.deepEqual(out.sent.map((r) => r.peer), peers, "oldest change first, each once");
  assert.equal(reports.retryMs(), null);
});

test("while signaling is away only each pair's latest outcome waits, and only if it changed", () => {
  const reports = new LinkReports();
  const live = signaling(true);
  for (const peer of ["a", "b", "c"]) reports.note(peer, OPENED);
  reports.flush(0, live.send);
  const away = signaling(false);
  reports.note("a", { event: "closed", reason: "channel closed" });
  reports.note("a", OPENED); // closed and open again while away: signaling already has "open"
  reports.note("b", { event: "failed", reason: "connection failed" });
  reports.note("b", { event: "timeout", reason: "no direct link within 10 s" });
  reports.note("c", { event: "closed", reason: "channel closed" });
  assert.equal(reports.flush(1000, away.send), 0);
  assert.equal(reports.flush(2000, away.send), 0);
  const back = signaling(true);
  assert.equal(reports.flush(3000, back.send), 2);
  assert.deepEqual(back.sent, [
    { type: "link", peer: "b", outcome: "relayed", path: "signaling", reason: "no direct link within 10 s" },
    { type: "link", peer: "c", outcome: "closed", reason: "channel closed" },
  ]);
});

test("a peer that says bye is leaving: its channel closing is no outcome to report", () => {
  const reports = new LinkReports();
  const out = signaling();
  reports.note("p2", OPENED);
  reports.flush(0, out.send);
  reports.saidBye("p2");
  assert.equal(reports.note("p2", { event: "closed", reason: "channel closed" }), false);
  assert.equal(reports.retryMs(), null);
  reports.forget("p2"); // signaling says it left
  assert.equal(reports.note("p2", OPENED), true, "the same peer id again is a new pair");
});

test("a peer that left is forgotten: its waiting report is dropped and a new pair starts over", () => {
  const reports = new LinkReports();
  reports.note("p2", OPENED); // while signaling is away
  reports.forget("p2");
  assert.equal(reports.retryMs(), null);
  const back = signaling(true);
  reports.flush(0, back.send);
  assert.deepEqual(back.sent, []);
  assert.equal(reports.note("p2", OPENED), true, "the same peer id again is a new pair");
});
