// @ts-check
/**
 * How people look on the board (docs/protocol.md 2.5): a colour derived from the user id, so every
 * client shows the same one, and initials from the display name. Pure.
 */

/**
 * FNV-1a, 32 bit, over the UTF-8 bytes of `text`.
 * @param {string} text
 * @returns {number} an unsigned 32-bit integer
 */
export function fnv1a32(text) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The hue (0..359) of a user. @param {string | number} userId */
export function hueOf(userId) {
  return fnv1a32(String(userId)) % 360;
}

/** The CSS colour of a user: `hsl(hue, 65%, 45%)`. @param {string | number} userId */
export function colourOf(userId) {
  return `hsl(${hueOf(userId)}, 65%, 45%)`;
}

/**
 * The first characters (code points) of the first two words of `name`, upper-cased by Unicode's
 * default mapping (no locale, so every client agrees); "?" for a name without a word.
 * @param {string} name
 */
export function initialsOf(name) {
  const words = name.trim().split(/\s+/).filter(Boolean).slice(0, 2);
  const letters = words.map((word) => Array.from(word)[0] ?? "").join("");
  return letters ? letters.toUpperCase() : "?";
}
