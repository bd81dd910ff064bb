// @ts-check
/**
 * The live board: what happens when the user moves or edits a card, when a peer says something on
 * a data channel, and when signaling brings peers or board events. It joins the board state, the REST
 * API, the mesh and signaling, and asks the view to redraw.
 *
 * Truth (docs/protocol.md 2.4): task states come from the board alone (REST answers and board
 * events), checked field by field, through `BoardSource`. Peers are untrusted: what their
 * messages may change is peerinput.js's rule, and their `task-updated` only makes us ask the board
 * (rate-limited by refresh.js). A drop is shown at once (an overlay) and saved with one move
 * request by its sender alone.
 */

import { ApiError } from "./api.js";
import { BoardSource } from "./boardsource.js";
import { BoardState, SELF } from "./boardstate.js";
import { PeerMesh } from "./mesh.js";
import { OwnHovers } from "./ownhovers.js";
import { applyPeerMessage } from "./peerinput.js";
import {
  DRAG_KEEPALIVE_MS, MessageIds, SenderIds, SenderOrder, isChannelOnly, isDragState, moveRequest, parseMessage, parseRelayed,
  randomSession,
} from "./protocol.js";
import { RemoteGhosts } from "./remoteghosts.js";
import { SignalingClient } from "./signaling.js";

/** @typedef {import("./protocol.js").Task} Task */
/** @typedef {import("./protocol.js").Place} Place */
/** @typedef {import("./protocol.js").Pointer} Pointer */
/** @typedef {import("./protocol.js").Message} Message */
/** @typedef {import("./view.js").Person} Person */
/** @typedef {{sprintId: number, apiRoot: string, csrfToken: string, user: {id: number, name: string}}} BoardConfig */

const PING_INTERVAL_MS = 5000;

/** @param {unknown[]} args */
function log(...args) {
  console.debug("[watercooler]", ...args);
}

export class LiveBoard {
  /**
   * @param {BoardConfig} config
   * @param {import("./api.js").BoardApi} api
   * @param {import("./view.js").BoardView} view
   */
  constructor(config, api, view) {
    this.config = config;
    this.api = api;
    this.view = view;
    this.state = new BoardState(config.sprintId);
    this.ids = new MessageIds(randomSession());
    this.recent = new SenderIds();
    this.order = new SenderOrder();
    this.board = new BoardSource(this.state, api, config.sprintId, () => this.redraw(), log);
    /** @type {Map<string, Person>} peers signaling told us about */
    this.people = new Map();
    this.me = { peer: "self", userId: String(config.user.id), name: config.user.name, self: true };
    this.hovers = new OwnHovers((hover, positionOnly) => this.sendHover(hover, positionOnly));
    this.ghosts = new RemoteGhosts(view);
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.expiryTimer = null;
    /** @type {{state: import("./signaling.js").SignalingState, detail: object}} */
    this.connection = { state: "connecting", detail: {} };
    this.welcomes = 0;
    this.redrawQueued = false;
    /** When our drag in progress last said where it is (drag-start or hover). */
    this.ownDragSaidAt = 0;

    this.mesh = new PeerMesh({
      sendSignal: (to, data) => this.signaling.send({ type: "signal", to, data }),
      sendRelay: (to, data) => this.signaling.send({ type: "relay", to, data }),
      sendReport: (report) => this.signaling.send(report),
      onMessage: (peer, frame, via) => this.onPeerMessage(peer, frame, via),
      onLinkUp: (peer, via) => this.greet(peer, via),
      onChange: () => this.redrawConnection(),
      log,
    });
    this.signaling = new SignalingClient({
      getLink: () => this.api.ticket(config.sprintId),
      onMessage: (message, text) => this.onSignaling(message, text),
      onState: (state, detail) => {
        this.connection = { state, detail };
        this.redrawConnection();
      },
      log,
    });
    this.pingTimer = setInterval(() => {
      if (this.mesh.links.size) this.broadcast({ type: "ping", id: "", t: performance.now() });
      this.keepDragAlive();
    }, PING_INTERVAL_MS);
  }

  /** Load the board over REST, then go live. */
  async start() {
    this.redraw();
    this.redrawConnection();
    let link;
    try {
      const [sprint, tasks] = await Promise.all([
        this.api.sprint(this.config.sprintId),
        this.api.boardTasks(this.config.sprintId),
      ]);
      this.state.load(this.board.checkedTasks(tasks));
      link = sprint.links.signaling;
      this.redraw();
    } catch (error) {
      this.view.notify(`Could not load the board: ${error instanceof Error ? error.message : error}`, "error");
    }
    this.signaling.connect(link);
  }

  /** Leaving the page: say bye to everyone, close every connection. */
  stop() {
    this.board.close();
    this.ghosts.clear();
    this.broadcast({ type: "bye", id: "" });
    clearInterval(this.pingTimer);
    this.mesh.close();
    this.signaling.close();
  }

  // --- sending --------------------------------------------------------------------------------

  /**
   * Give a message its id and send it to every peer.
   * @param {Message} message @param {boolean} [positionOnly] a hover that only moves the pointer
   */
  broadcast(message, positionOnly = false) {
    message.id = this.ids.next();
    try {
      return this.mesh.broadcast(message, positionOnly);
    } catch (error) {
      log("not sent", error);
      return 0;
    }
  }

  /**
   * A path to a peer is up. An open channel, or a pair given up on for direct, gets hello and our
   * drag in progress; a peer just introduced (reached through the relay until its channel opens)
   * gets our drag in progress only if there is one, so a newcomer sees it at once.
   * @param {string} peer @param {import("./mesh.js").LinkUp} via
   */
  greet(peer, via) {
    const own = this.state.drags.get("self");
    if (via === "introduced" && !own) return;
    if (via !== "introduced") this.mesh.send(peer, { type: "hello", id: this.ids.next(), agent: "web" });
    const drags = own ? [{ task: own.task, from: own.from, over: own.over, ...(own.pointer ? { pointer: own.pointer } : {}) }] : [];
    this.mesh.send(peer, { type: "snapshot", id: this.ids.next(), drags });
  }

  // --- the user's own moves ------------------------------------------------------------------

  /**
   * Pick a card up. Only our own drop still being saved holds a card back: a peer's overlay never
   * does (docs/protocol.md 2.4), our move is saved against the board's version and replaces it.
   * @param {number} task @param {Place} from
   */
  startDrag(task, from) {
    const kept = this.state.tasks.get(task);
    if (!kept || this.state.overlays.get(task)?.by === SELF) return false;
    this.state.startDrag("self", { task, from, over: from, by: "self", version: kept.version });
    this.hovers.start(task, from);
    this.broadcast({ type: "drag-start", id: "", task, version: kept.version, from });
    this.ownDragSaidAt = performance.now();
    this.redraw();
    return true;
  }

  /**
   * Our drag moved: the place under it, and the pointer in board terms (null for the keyboard).
   * The hover goes out on a coming animation frame (ownhovers.js).
   * @param {number} task @param {Place} over @param {Pointer | null} [pointer]
   */
  hoverDrag(task, over, pointer = null) {
    const moved = this.state.hoverDrag("self", task, over, pointer);
    if (moved === null) return;
    if (moved === "place") this.redraw();
    this.hovers.update({ task, over, pointer });
  }

  /** @param {import("./ownhovers.js").HoverState} hover @param {boolean} positionOnly */
  sendHover(hover, positionOnly) {
    if (this.state.drags.get("self")?.task !== hover.task) return;
    const { task, over, pointer } = hover;
    this.broadcast({ type: "drag-hover", id: "", task, over, ...(pointer ? { pointer } : {}) }, positionOnly);
    this.ownDragSaidAt = performance.now();
  }

  /**
   * A card held still says where it is again every 10 s: others end a drag they hear nothing of
   * for 30 s (docs/protocol.md 2.3), and pings do not go through the relay.
   */
  keepDragAlive() {
    const own = this.state.drags.get(SELF);
    if (!own || performance.now() - this.ownDragSaidAt < DRAG_KEEPALIVE_MS) return;
    const pointer = own.pointer ? { pointer: own.pointer } : {};
    this.broadcast({ type: "drag-hover", id: "", task: own.task, over: own.over, ...pointer });
    this.ownDragSaidAt = performance.now();
  }

  /** @param {number} task */
  cancelDrag(task) {
    this.hovers.clear();
    if (!this.state.endDrag("self", task)) return;
    this.broadcast({ type: "drag-cancel", id: "", task });
    this.redraw();
  }

  /** Show the drop at once, tell the peers, save it, settle it. @param {number} task @param {Place} to */
  async dropDrag(task, to) {
    this.hovers.clear();
    const drag = this.state.drags.get("self");
    const kept = this.state.tasks.get(task);
    if (!drag || drag.task !== task || !kept) return;
    this.state.endDrag("self", task);
    if (drag.from.column === to.column && drag.from.index === to.index) {
      this.broadcast({ type: "drag-cancel", id: "", task });
      this.redraw();
      return;
    }
    // The version seen when the card was picked up: if someone saved it meanwhile, the board
    // refuses the move (409) and we show theirs, rather than overwrite a change nobody saw.
    const version = drag.version;
    this.state.addOverlay(task, to, version, "self", performance.now());
    this.broadcast({ type: "drag-drop", id: "", task, to, version });
    this.redraw();
    try {
      const saved = this.board.keep(await this.api.moveTask(task, moveRequest(to, this.config.sprintId, version)));
      if (saved) this.broadcast({ type: "task-updated", id: "", task: saved });
      else this.state.dropOverlay(task);
    } catch (error) {
      this.state.dropOverlay(task);
      const current = error instanceof ApiError && error.status === 409 ? this.board.keep(error.body?.task) : null;
      if (current) {
        this.broadcast({ type: "task-updated", id: "", task: current });
        this.view.notify(`Move not saved: ${error instanceof Error ? error.message : error}`, "error");
      } else {
        this.broadcast({ type: "drag-cancel", id: "", task });
        this.view.notify(`Move not saved: ${error instanceof Error ? error.message : error}`, "error");
      }
      this.view.flashReverted(task);
    }
    this.redraw();
  }

  // --- the user's own edits -------------------------------------------------------------------

  /** @param {string} name */
  async addTask(name) {
    try {
      const task = this.board.keep(await this.api.createTask({ name, sprint: null }));
      if (task) this.broadcast({ type: "task-updated", id: "", task });
      this.redraw();
    } catch (error) {
      this.view.notify(`Task not added: ${error instanceof Error ? error.message : error}`, "error");
    }
  }

  /**
   * Save what the person changed in the task dialog: only those fields, against the version the
   * dialog was opened with, so a change someone made meanwhile is refused (409), not overwritten.
   * @param {number} id @param {Partial<Task>} fields @param {number} version
   * @returns {Promise<string | null>} an error, or null
   */
  async editTask(id, fields, version) {
    if (!this.state.tasks.has(id)) return "This task is no longer on the board.";
    if (Object.keys(fields).length === 0) return null;
    try {
      const task = this.board.keep(await this.api.updateTask(id, { ...fields, version }));
      if (task) this.broadcast({ type: "task-updated", id: "", task });
      this.redraw();
      return null;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) this.board.keep(error.body?.task);
      this.redraw();
      return error instanceof Error ? error.message : String(error);
    }
  }

  // --- peers ------------------------------------------------------------------------------------

  /** @param {string} peer @param {unknown} frame @param {"direct" | "relay"} via */
  onPeerMessage(peer, frame, via) {
    // A relayed message is judged on the signaling frame that carried it (docs/protocol.md 2.6).
    const parsed = via === "relay" && typeof frame === "string" ? parseRelayed(frame) : parseMessage(frame);
    if (!parsed.ok) {
      if (parsed.ignored) log(`ignored from ${peer}: ${parsed.reason}`);
      else console.warn("[watercooler] malformed message dropped", { peer, reason: parsed.reason });
      return;
    }
    const message = parsed.message;
    // A ping or pong goes over the channel only (docs/protocol.md 2.6): one relayed is ignored.
    if (via === "relay" && isChannelOnly(message.type)) return;
    if (this.recent.seen(peer, message.id)) return;
    this.mesh.countReceived(peer, message.type, via);
    // Around the switch from the relay to the channel, a later drag message can overtake an
    // earlier one: the later one says where the drag is now, the earlier one is stale.
    if (isDragState(message) && this.order.stale(peer, message.id)) {
      log(`stale ${message.type} from ${peer} (overtaken by a later one)`);
      return;
    }
    if (message.type === "bye") this.mesh.saidBye(peer); // it is leaving: relay nothing more to it
    const effect = applyPeerMessage(this.state, peer, message, performance.now());
    const link = this.mesh.links.get(peer);
    if (effect.agent !== null && link) link.agent = effect.agent;
    if (effect.pong !== null) this.mesh.send(peer, { type: "pong", id: this.ids.next(), t: effect.pong });
    if (message.type === "pong" && link) {
      // `t` is the time we sent, echoed by the peer: a value that is no recent time of ours is
      // not a round trip, so it is not shown.
      const rtt = performance.now() - message.t;
      if (rtt >= 0 && rtt <= PING_INTERVAL_MS * 12) link.pingRttMs = rtt;
    }
    if (effect.hint) this.board.hint(effect.hint.task, peer);
    if (effect.changed) this.redraw();
    else if (effect.pointer) this.ghosts.update(this.state, (by) => this.who(by));
  }

  // --- signaling ------------------------------------------------------------------------------

  /** @param {any} message @param {string} [text] the frame it came in */
  onSignaling(message, text = "") {
    switch (message.type) {
      case "welcome": {
        this.welcomes += 1;
        this.people.clear();
        for (const { peer, user } of message.peers) {
          this.people.set(peer, { peer, userId: String(user.id), name: String(user.name) });
        }
        this.mesh.welcome(message.peer, Array.isArray(message.iceServers) ? message.iceServers : [], message.peers);
        this.redrawPresence();
        // Board events sent while we were away are lost: catch up over REST.
        if (this.welcomes > 1) void this.refresh();
        break;
      }
      case "peer-joined":
        this.people.set(message.peer, { peer: message.peer, userId: String(message.user.id), name: String(message.user.name) });
        this.mesh.joined(message.peer, message.user);
        this.redrawPresence();
        break;
      case "peer-left":
        this.people.delete(message.peer);
        this.mesh.left(message.peer);
        this.recent.forget(message.peer);
        this.order.forget(message.peer);
        if (this.state.forgetPeer(message.peer)) this.redraw();
        this.redrawPresence();
        break;
      case "signal":
        this.mesh.signal(message.from, message.data);
        break;
      case "relay":
        this.mesh.relay(message.from, text);
        break;
      case "event":
        this.onBoardEvent(message.event);
        break;
      case "disconnected":
        this.mesh.signalingLost();
        break;
      default:
        break;
    }
  }

  /** A change the board announced through the hook. @param {any} event */
  onBoardEvent(event) {
    if (!event || typeof event !== "object") return;
    if (event.model === "task") {
      this.board.onTaskEvent(event);
    } else if (event.model === "sprint" && event.sprint?.id === this.config.sprintId) {
      const title = document.getElementById("sprint-name");
      if (event.action === "deleted") this.view.notify("This sprint was deleted.", "error");
      else if (title && typeof event.sprint.name === "string") title.textContent = event.sprint.name;
    }
  }

  /** Reload the tasks (the server's order wins; newer states we hold are kept). */
  async refresh() {
    try {
      this.state.load(this.board.checkedTasks(await this.api.boardTasks(this.config.sprintId)));
      this.redraw();
    } catch (error) {
      log("refresh failed", error);
    }
  }

  // --- drawing --------------------------------------------------------------------------------

  /** @param {string} by @returns {Person | undefined} */
  who(by) {
    if (by === "self") return this.me;
    const person = this.people.get(by);
    if (person) return person;
    const link = this.mesh.links.get(by);
    return link ? { peer: by, userId: String(link.user.id), name: String(link.user.name) } : undefined;
  }

  /** Redraw the board (coalescing the changes of one turn) and arm the overlay deadline. */
  redraw() {
    if (this.redrawQueued) return;
    this.redrawQueued = true;
    queueMicrotask(() => {
      this.redrawQueued = false;
      this.state.expire(performance.now());
      this.view.render(this.state, (by) => this.who(by));
      this.ghosts.update(this.state, (by) => this.who(by));
      this.armExpiry();
    });
  }

  armExpiry() {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const deadline = this.state.nextDeadline();
    if (deadline === null) return;
    this.expiryTimer = setTimeout(() => this.redraw(), Math.max(0, deadline - performance.now()) + 5);
  }

  redrawPresence() {
    const present = new Map(this.people);
    // A peer whose channel is still open is still here, even while signaling is away.
    for (const link of this.mesh.links.values()) {
      if (!present.has(link.peer) && link.openChannel) {
        present.set(link.peer, { peer: link.peer, userId: String(link.user.id), name: String(link.user.name) });
      }
    }
    this.view.renderPresence([this.me, ...present.values()]);
  }

  redrawConnection() {
    const links = [...this.mesh.links.values()].map((link) => ({
      peer: link.peer,
      name: String(link.user.name),
      userId: String(link.user.id),
      ...link.status,
      connectionState: link.connectionState,
      rttMs: link.rttMs ?? link.pingRttMs,
    }));
    this.view.renderConnection(this.connection.state, this.connection.detail, links);
    this.redrawPresence();
  }

  /** A plain summary for people debugging and for tests (counters per peer and path). */
  stats() {
    return {
      peer: this.signaling.peer,
      signaling: this.signaling.state,
      signalingMessagesSent: this.signaling.sent,
      links: [...this.mesh.links.values()].map((link) => link.report()),
    };
  }
}
