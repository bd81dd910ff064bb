// @ts-check
/**
 * The rules of a frame's text (docs/protocol.md 2.7, and 2.6 for a relayed message), checked on
 * the text itself before it is parsed: its size in UTF-8, how deep it nests and how long its number
 * literals are. Checked on the text so that no parser's own limits decide (Python's recursion and
 * integer-digit limits, V8's none), and so that both clients reach the same verdict on the same
 * text. A relayed message is judged on the signaling frame that carried it, which both clients
 * receive byte for byte, never on a re-encoding of it (the two write numbers differently).
 * Pure; peer_client/frames.py keeps the same rules.
 */

/** Largest frame either side sends or accepts, in UTF-8 bytes. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** How deep a message may nest: the message object is level 1, each object or array in it one more. */
export const MAX_DEPTH = 32;
/** The longest run of number characters (0-9 + - . e E) outside strings. */
export const MAX_NUMBER_CHARS = 40;
/** What the signaling frame around a relayed message may add to it: `{"type":"relay","from":ID,"data":…}`. */
export const RELAY_ENVELOPE_BYTES = 64;

const encoder = new TextEncoder();

/** @param {string} text */
export function utf8Length(text) {
  return encoder.encode(text).length;
}

// A string (up to its closing quote, or to the end of a text that never closes it), an opening or
// closing bracket, or a run of number characters. Everything else is left alone.
const TOKENS = /"(?:[^"\\]|\\[\s\S])*(?:"|\\?$)|[[{]|[\]}]|[-+.eE0-9]+/g;

/**
 * Why `text` breaks the shape rule (too deep, too long a number), or null if it keeps it.
 * @param {string} text @param {number} levels how deep it may nest (a relay's envelope adds one)
 */
export function shapeFault(text, levels = MAX_DEPTH) {
  let depth = 0;
  for (const [token] of text.matchAll(TOKENS)) {
    const first = token[0];
    if (first === '"') continue;
    if (first === "[" || first === "{") {
      depth += 1;
      if (depth > levels) return `nested deeper than ${MAX_DEPTH} levels`;
    } else if (first === "]" || first === "}") {
      depth -= 1;
    } else if (token.length > MAX_NUMBER_CHARS) {
      return `a number longer than ${MAX_NUMBER_CHARS} characters`;
    }
  }
  return null;
}

/**
 * Why a data-channel frame's text breaks the rules of 2.7 (before parsing), or null.
 * @param {string} text
 */
export function frameFault(text) {
  if (text.length > MAX_MESSAGE_BYTES || utf8Length(text) > MAX_MESSAGE_BYTES) {
    return `larger than ${MAX_MESSAGE_BYTES} bytes`;
  }
  return shapeFault(text);
}

/**
 * Why the signaling frame that carried a relayed message breaks the rules of 2.6 (before parsing),
 * or null: at most 16 KiB and the envelope's allowance, one level deeper for the envelope.
 * @param {string} text the whole `{"type":"relay",...}` frame as signaling sent it
 */
export function relayFrameFault(text) {
  const limit = MAX_MESSAGE_BYTES + RELAY_ENVELOPE_BYTES;
  if (text.length > limit || utf8Length(text) > limit) {
    return `relayed message larger than ${MAX_MESSAGE_BYTES} bytes (its frame over ${limit})`;
  }
  return shapeFault(text, MAX_DEPTH + 1);
}
