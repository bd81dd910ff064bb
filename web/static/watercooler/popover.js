// @ts-check
/**
 * A `<details>` element that behaves like a popover: it closes when the person clicks or taps
 * anywhere outside it, or presses Escape, so an open panel never stays over the board's cards.
 */

/**
 * @param {HTMLDetailsElement} details
 * @param {Document} document
 * @returns {() => void} removes the listeners
 */
export function closeWhenLeft(details, document) {
  /** @param {PointerEvent} event */
  const onPointerDown = (event) => {
    if (details.open && event.target instanceof Node && !details.contains(event.target)) details.open = false;
  };
  /** @param {KeyboardEvent} event */
  const onKeyDown = (event) => {
    if (event.key !== "Escape" || !details.open) return;
    details.open = false;
    details.querySelector("summary")?.focus();
  };
  document.addEventListener("pointerdown", onPointerDown, true);
  document.addEventListener("keydown", onKeyDown);
  return () => {
    document.removeEventListener("pointerdown", onPointerDown, true);
    document.removeEventListener("keydown", onKeyDown);
  };
}
