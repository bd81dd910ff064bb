// @ts-check
/**
 * What a peer's message may change on this page (docs/protocol.md 2.4). Pure: no DOM, no network;
 * the live board feeds it messages that `parseMessage` already checked and does the I/O it asks
 * for (a hint to fetch a task from the board, a pong to send).
 *
 * Every peer is untrusted. A message speaks only for its sender's own actions: its drags (of tasks
 * on this board), its drop (an overlay, never saved by us), its hello. A peer's `task-updated` is
 * a hint and never reaches the kept task states: those come from the board alone.
 */

/** @typedef {import("./boardstate.js").BoardState} BoardState */
/** @typedef {import("./protocol.js").Message} Message */
/**
 * @typedef {{
 *   changed: boolean,
 *   hint: {task: number, version: number} | null,
 *   pong: number | null,
 *   agent: string | null,
 *   pointer: boolean,
 * }} PeerEffect
 * `changed`: the board must be drawn again; `pointer`: only the sender's pointer ghost moved.
 */

/** @returns {PeerEffect} */
function none() {
  return { changed: false, hint: null, pong: null, agent: null, pointer: false };
}

/**
 * Apply one checked message from `peer` to `state`; returns what changed and what to do.
 * @param {BoardState} state @param {string} peer @param {Message} message @param {number} now
 * @returns {PeerEffect}
 */
export function applyPeerMessage(state, peer, message, now) {
  const effect = none();
  // Any word from the sender: its drag in progress is not a lost one.
  state.heardFrom(peer, now);
  switch (message.type) {
    case "hello":
      effect.agent = message.agent;
      break;
    case "snapshot":
      effect.changed = state.forgetPeer(peer);
      for (const drag of message.drags) {
        if (!state.isOnBoard(drag.task)) continue;
        state.startDrag(peer, { ...drag, by: peer, version: state.version(drag.task), heard: now });
        effect.changed = true;
        effect.pointer = effect.pointer || drag.pointer !== undefined;
      }
      break;
    case "drag-start":
      if (!state.isOnBoard(message.task)) break;
      state.startDrag(peer, { task: message.task, from: message.from, over: message.from, by: peer, version: message.version, heard: now });
      effect.changed = true;
      break;
    case "drag-hover": {
      // Only a drag the sender started (drag-start or snapshot) follows its hovers.
      const moved = state.hoverDrag(peer, message.task, message.over, message.pointer ?? null);
      effect.changed = moved === "place";
      effect.pointer = moved !== null;
      break;
    }
    case "drag-drop":
      // A drop ends the drag its sender holds; a drop of a card the sender does not hold (no
      // drag-start or snapshot for it) is ignored, so no peer can mark cards it never picked up.
      if (!state.endDrag(peer, message.task)) break;
      state.addOverlay(message.task, message.to, message.version, peer, now);
      effect.changed = true;
      break;
    case "drag-cancel": {
      effect.changed = state.endDrag(peer, message.task);
      const overlay = state.overlays.get(message.task);
      if (overlay && overlay.by === peer) effect.changed = state.dropOverlay(message.task) || effect.changed;
      break;
    }
    case "task-updated": {
      // A hint: worth asking the board only if it names something newer than we hold.
      const { id, version } = message.task;
      if (!state.tasks.has(id) || version > state.version(id)) effect.hint = { task: id, version };
      break;
    }
    case "bye":
      // The sender's drags and drops end now; presence is signaling's business (peer-left).
      effect.changed = state.forgetPeer(peer);
      effect.changed = state.dropOverlaysBy(peer) || effect.changed;
      break;
    case "ping":
      effect.pong = message.t;
      break;
    case "pong":
      break;
  }
  return effect;
}
