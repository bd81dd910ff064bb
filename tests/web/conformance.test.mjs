// The conformance cases of tests/protocol_fixtures/ against web/static/watercooler/protocol.js:
// every verdict, every normalised form, and that what we send is held to the same rules.
// tests/peer_client/test_conformance.py runs the same cases against the Python peer.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";

import { encodeMessage, parseMessage, parseRelayed } from "../../web/static/watercooler/protocol.js";

const directory = new URL("../protocol_fixtures/", import.meta.url);
const files = readdirSync(directory).filter((name) => name.endsWith(".json")).sort();

/** Texts given as `[[text, times], ...]`, concatenated. @param {[string, number][]} parts */
function joined(parts) {
  return parts.map(([text, times]) => text.repeat(times)).join("");
}

/** The frame a case describes, as the channel would deliver it. @param {any} item */
function frameOf(item) {
  if (item.binary) return new Uint8Array([0x7b, 0x7d]);
  if (typeof item.frame === "string") return item.frame;
  if (item.frame_parts) return joined(item.frame_parts);
  const message = item.pad ? { ...item.message, pad: item.pad_char.repeat(item.pad) } : item.message;
  return JSON.stringify(message);
}

/** The start of the signaling frame that relays a message from peer "PPPPPPPPPPPPPPPP". */
const RELAY_HEAD = '{"type":"relay","from":"PPPPPPPPPPPPPPPP","data":';

/**
 * What the case looks like on the channel and, but for the size cases, through the relay (the
 * frame inside the signaling frame that carries it); a relay case only through the relay.
 * @param {any} item @returns {[string, import("../../web/static/watercooler/protocol.js").Parsed][]}
 */
function verdicts(item) {
  if (item.relay_frame || item.relay_parts) {
    return [["relay", parseRelayed(item.relay_frame ?? joined(item.relay_parts))]];
  }
  const frame = frameOf(item);
  /** @type {[string, import("../../web/static/watercooler/protocol.js").Parsed][]} */
  const out = [["frame", parseMessage(frame)]];
  if (typeof frame === "string" && !item.pad) out.push(["relay", parseRelayed(`${RELAY_HEAD}${frame}}`)]);
  return out;
}

test("the fixture set is there and has cases of every verdict", () => {
  assert.ok(files.length >= 4, `fixture files: ${files}`);
  const verdicts = new Set(files.flatMap((name) => JSON.parse(readFileSync(new URL(name, directory), "utf8")).cases.map((c) => c.verdict)));
  assert.deepEqual([...verdicts].sort(), ["ignored", "invalid", "valid"]);
});

for (const name of files) {
  const { cases } = JSON.parse(readFileSync(new URL(name, directory), "utf8"));
  for (const item of cases) {
    test(`${name}: ${item.name}`, () => {
      for (const [via, parsed] of verdicts(item)) {
        if (item.verdict === "valid") {
          assert.equal(parsed.ok, true, `${via}: ${JSON.stringify(parsed)}`);
          assert.deepEqual(parsed.ok && parsed.message, item.normalised, via);
          continue;
        }
        assert.equal(parsed.ok, false, `${via}: accepted: ${JSON.stringify(parsed)}`);
        if (parsed.ok) continue;
        assert.equal(parsed.ignored, item.verdict === "ignored", `${via}: ${parsed.reason}`);
        if (item.verdict === "invalid") {
          assert.ok(parsed.reason.includes(item.names), `${via}: reason ${JSON.stringify(parsed.reason)} should name ${item.names}`);
        }
      }
      if (item.verdict === "valid") {
        // What we send is the normalised form, unchanged.
        const sent = encodeMessage(/** @type {any} */ (structuredClone(item.normalised)));
        assert.ok(sent !== null);
        assert.deepEqual(JSON.parse(sent), item.normalised);
        return;
      }
      // We refuse to send what we would not accept (frames that are not objects are not ours to send).
      if (item.message && !item.pad) {
        assert.throws(() => encodeMessage(/** @type {any} */ (structuredClone(item.message))), TypeError);
      }
    });
  }
}
