// Tests for web/static/watercooler/presence.js: colours (FNV-1a per docs/protocol.md 2.5), initials.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { colourOf, fnv1a32, hueOf, initialsOf } from "../../web/static/watercooler/presence.js";

test("fnv1a32 matches the published FNV-1a 32-bit test vectors", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
});

test("fnv1a32 hashes UTF-8 bytes, not UTF-16 code units", () => {
  // "é" is two bytes in UTF-8 (c3 a9): hash them by hand.
  let hash = 0x811c9dc5;
  for (const byte of [0xc3, 0xa9]) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  assert.equal(fnv1a32("é"), hash);
});

test("a user's colour is hsl(hash mod 360, 65%, 45%), the same for a number or its string", () => {
  assert.equal(hueOf("1"), fnv1a32("1") % 360);
  assert.equal(colourOf(1), `hsl(${fnv1a32("1") % 360}, 65%, 45%)`);
  assert.equal(colourOf(1), colourOf("1"));
  assert.notEqual(colourOf("1"), colourOf("2"));
});

test("initials are the first letters of the first two words", () => {
  assert.equal(initialsOf("Dana Demo"), "DD");
  assert.equal(initialsOf("sam"), "S");
  assert.equal(initialsOf("  ada  lovelace king "), "AL");
  assert.equal(initialsOf("Émile zola"), "ÉZ");
  assert.equal(initialsOf(""), "?");
});

// The same cases as tests/peer_client/test_presence.py: both clients show a person alike.
const people = JSON.parse(readFileSync(new URL("../protocol_fixtures/people/people.json", import.meta.url), "utf8"));

test("initials and colours agree with the shared cases", () => {
  for (const [name, initials] of people.initials) assert.equal(initialsOf(name), initials, JSON.stringify(name));
  for (const [userId, colour] of people.colours) assert.equal(colourOf(userId), colour, userId);
});
