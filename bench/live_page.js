// What bench/live.py adds to each tab it opens (a Playwright init script), to time the real app:
// the time of the last pointer event and of going live, and waits for the DOM. Times are ms since
// the epoch (performance.timeOrigin + performance.now()), the clock every tab shares. It changes
// nothing in the page. A pointer event has two times: its timestamp (when the input happened) and
// when the page got to handle it (Chromium hands pointer moves over at the next animation frame).
window.__bench = { lastMove: null, lastMoveHandled: null, lastUp: null, startAt: null, startHandledAt: null, liveAt: null, firstGhostAt: null };
window.__benchNow = () => performance.timeOrigin + performance.now();
addEventListener("pointermove", (e) => {
  __bench.lastMove = performance.timeOrigin + e.timeStamp;
  __bench.lastMoveHandled = __benchNow();
}, { capture: true });
addEventListener("pointerup", (e) => { __bench.lastUp = performance.timeOrigin + e.timeStamp; }, { capture: true });
/** A promise of the first time (ms since the epoch) `condition()` holds, checked on every DOM change. */
window.__benchWhen = (condition) => new Promise((resolve) => {
  const check = () => {
    if (!condition()) return false;
    observer.disconnect();
    resolve(__benchNow());
    return true;
  };
  const observer = new MutationObserver(check);
  observer.observe(document.documentElement, {subtree: true, childList: true, attributes: true});
  check();
});
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("live-status");
  if (status) __benchWhen(() => status.dataset.state === "live").then((at) => { __bench.liveAt = at; });
  __benchWhen(() => document.querySelector("#board .ghost") !== null).then((at) => { __bench.firstGhostAt = at; });
  // Our own drag starts on a pointer move (the body turns "dragging" in that move's handler).
  new MutationObserver(() => {
    if (!document.body.classList.contains("dragging") || __bench.startAt !== null) return;
    __bench.startAt = __bench.lastMove;
    __bench.startHandledAt = __bench.lastMoveHandled;
  }).observe(document.body, {attributes: true, attributeFilter: ["class"]});
});
