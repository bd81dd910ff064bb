// @ts-check
/**
 * One other viewer (docs/protocol.md 1.4, 2.1, 2.6): its RTCPeerConnection and "watercooler"
 * channel, negotiated the perfect-negotiation way (the smaller peer id is polite), and the path its
 * messages take. Until the channel is open every message goes through the relay (within the mesh's
 * budget: hovers first to go, pointer-only hovers before them); once it is open, only the channel.
 * The link also keeps what the connection panel shows (linkstatus.js) and its counters, and tells
 * the mesh what happens to it (open, no channel in time, failed, closed) for the link reports
 * (linkreport.js).
 *
 * Each peer's incoming signaling is applied strictly in order, one at a time, from a queue that
 * keeps only the newest offer waiting and answers at most one offer a second (signalqueue.js), so
 * an offer flood cannot make us exceed signaling's rate limit. The offerer offers again (after a
 * growing delay, roles.js) when its channel closes or its connection fails; the answerer waits
 * for offers.
 */

import { PATH_LABELS, linkDetail, linkPath, selectedPair } from "./linkstatus.js";
import { CHANNEL_LABEL, DIRECT_LINK_TIMEOUT_MS, isChannelOnly } from "./protocol.js";
import { STABLE_LINK_MS, reofferDelayMs } from "./roles.js";
import { SignalQueue } from "./signalqueue.js";

/** @typedef {import("./protocol.js").Message} Message */
/** @typedef {{id: string, name: string}} PeerUser */
/** @typedef {import("./linkstatus.js").LinkPath} LinkPath */
/** @typedef {import("./roles.js").Role} Role */
/** @typedef {import("./mesh.js").PeerMesh} PeerMesh */
/**
 * How much a message may use of the relay budget: `position` is a hover that only moves the
 * pointer (the first to go), `hover` one that changes the place, `normal` everything else.
 * @typedef {"normal" | "hover" | "position"} RelayPriority
 */
/** @typedef {"introduced" | "direct" | "relayed"} LinkUp */

/**
 * Tokens that must stay in the relay budget after a message of each priority: hovers stop when
 * fewer than 20 are left, so drops and updates still get through, and pointer-only hovers at 30.
 * @type {Record<RelayPriority, number>}
 */
const RELAY_RESERVE = { normal: 0, hover: 20, position: 30 };

/** The counters a link keeps, per path and direction. */
function emptyCounters() {
  return {
    /** @type {Record<string, number>} message type → count */ sentDirect: {},
    /** @type {Record<string, number>} */ sentRelay: {},
    /** @type {Record<string, number>} */ receivedDirect: {},
    /** @type {Record<string, number>} */ receivedRelay: {},
    /** @type {Record<string, number>} not relayed: over our relay budget */ droppedRelay: {},
  };
}

/** @param {Record<string, number>} counts @param {string} type */
export function count(counts, type) {
  counts[type] = (counts[type] ?? 0) + 1;
}

/**
 * How much of the relay budget a message may use; null for one that is never relayed (ping, pong).
 * @param {Message} message @param {boolean} positionOnly @returns {RelayPriority | null}
 */
export function relayPriority(message, positionOnly) {
  if (isChannelOnly(message.type)) return null;
  if (message.type !== "drag-hover") return "normal";
  return positionOnly ? "position" : "hover";
}

/** One other viewer: its connection, channel(s), path and measurements. */
export class PeerLink {
  /** @param {PeerMesh} mesh @param {string} peer @param {PeerUser} user @param {Role} role */
  constructor(mesh, peer, user, role) {
    this.mesh = mesh;
    this.peer = peer;
    this.user = user;
    /** our side of the pair: the offerer offers (again), the answerer waits for offers */
    this.role = role;
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {RTCDataChannel[]} */
    this.channels = [];
    this.signals = new SignalQueue();
    this.applying = false;
    this.makingOffer = false;
    this.ignoreOffer = false;
    /** @type {string | null} why the pair is shown as relayed (null while connecting or open) */
    this.gaveUp = null;
    this.closed = false;
    /** the peer said `bye`: it is leaving, so nothing more goes to it through the relay */
    this.leaving = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.giveUpTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    this.retries = 0;
    /** @type {number | null} when the current channel opened (performance.now()) */
    this.openedAt = null;
    /** @type {number | null} the first offer (sent or received) since the pair was last open */
    this.offeredAt = null;
    /** @type {number | null} ms from that offer to the current channel's opening */
    this.tookMs = null;
    /** @type {number | null} round-trip time from getStats, ms */
    this.rttMs = null;
    /** @type {number | null} round-trip time from ping/pong, ms */
    this.pingRttMs = null;
    /** @type {string | null} local and remote candidate types of the selected pair */
    this.candidates = null;
    this.connectionState = "new";
    this.iceGatheringState = "new";
    this.agent = "?";
    this.counters = emptyCounters();
  }

  get polite() {
    return this.mesh.self !== null && this.mesh.self < this.peer;
  }

  /** @returns {RTCDataChannel | undefined} */
  get openChannel() {
    return this.channels.find((channel) => channel.readyState === "open");
  }

  /** @returns {import("./linkstatus.js").LinkFacts} */
  get facts() {
    return {
      closed: this.closed,
      channelOpen: this.openChannel !== undefined,
      candidates: this.candidates,
      gaveUp: this.gaveUp,
      signalingLive: this.mesh.signalingLive,
      connectionState: this.connectionState,
      iceGatheringState: this.iceGatheringState,
    };
  }

  /** @returns {LinkPath} */
  get path() {
    return linkPath(this.facts);
  }

  /** A plain summary for people debugging and for tests (LiveBoard.stats). */
  report() {
    return {
      peer: this.peer,
      name: this.user.name,
      path: this.path,
      detail: this.status.detail,
      agent: this.agent,
      connectionState: this.connectionState,
      rttMs: this.rttMs,
      pingRttMs: this.pingRttMs,
      candidates: this.candidates,
      openedAt: this.openedAt,
      counters: this.counters,
    };
  }

  /** The panel's words for this pair: its path and the state behind it. */
  get status() {
    const facts = this.facts;
    return { path: linkPath(facts), label: PATH_LABELS[linkPath(facts)], detail: linkDetail(facts) };
  }

  /** A fresh RTCPeerConnection (closing any previous one). */
  newConnection() {
    this.pc?.close();
    this.channels = [];
    this.makingOffer = false;
    this.ignoreOffer = false;
    const pc = new RTCPeerConnection({ iceServers: this.mesh.iceServers });
    this.pc = pc;
    this.connectionState = pc.connectionState;
    this.iceGatheringState = pc.iceGatheringState;
    this.candidates = null;
    pc.onicegatheringstatechange = () => {
      if (pc !== this.pc) return;
      this.iceGatheringState = pc.iceGatheringState;
      this.mesh.options.onChange();
    };
    pc.onicecandidate = ({ candidate }) => {
      if (pc !== this.pc) return;
      if (candidate && !candidate.candidate) return; // an empty "end of generation" marker
      const data = candidate
        ? { candidate: { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex } }
        : { candidate: null };
      this.mesh.options.sendSignal(this.peer, data);
    };
    pc.onnegotiationneeded = async () => {
      if (pc !== this.pc) return;
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        const description = pc.localDescription;
        if (description && pc === this.pc) {
          this.mesh.options.sendSignal(this.peer, { description: { type: description.type, sdp: description.sdp } });
        }
      } catch (error) {
        this.mesh.log(`offer to ${this.peer} failed`, error);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      const old = this.connectionState;
      this.connectionState = pc.connectionState;
      this.mesh.log(`peer ${this.peer}: ${old} -> ${pc.connectionState}`);
      if (pc.connectionState === "failed") this.lost("connection failed", "failed");
      else if (pc.connectionState === "closed") this.lost("connection closed", "closed");
      this.mesh.options.onChange();
    };
    pc.ondatachannel = ({ channel }) => {
      if (pc === this.pc) this.adopt(channel);
    };
    this.armGiveUpTimer();
    return pc;
  }

  /** Start a fresh connection and offer (we are the offerer of this pair). */
  offer() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.offeredAt ??= performance.now();
    const pc = this.newConnection();
    this.adopt(pc.createDataChannel(CHANNEL_LABEL));
  }

  /** If the channel is not open within the limit, the pair is shown as relayed (it relays already). */
  armGiveUpTimer() {
    if (this.giveUpTimer) clearTimeout(this.giveUpTimer);
    this.giveUpTimer = setTimeout(() => {
      this.giveUpTimer = null;
      if (this.openChannel || this.closed) return;
      const why = `no direct link within ${DIRECT_LINK_TIMEOUT_MS / 1000} s`;
      this.giveUp(why);
      this.mesh.linkEvent(this, "timeout", why);
    }, DIRECT_LINK_TIMEOUT_MS);
  }

  /** No direct link for now: the pair is relayed (its messages went through the relay all along). @param {string} why */
  giveUp(why) {
    if (this.gaveUp !== null || this.closed) return;
    this.mesh.log(`peer ${this.peer}: relayed through signaling (${why})`);
    this.gaveUp = why;
    this.mesh.options.onChange();
    this.mesh.options.onLinkUp(this.peer, "relayed");
  }

  /**
   * The direct link is gone: relay for now; the offerer offers again. Still without a channel
   * after the limit, the pair is reported as relayed.
   * @param {string} why @param {"failed" | "closed"} event
   */
  lost(why, event) {
    if (this.closed || this.leaving) return; // a peer that said bye closes its side: no outcome
    if (this.openChannel) return;
    this.giveUp(why);
    this.mesh.linkEvent(this, event, why);
    this.armGiveUpTimer();
    if (this.openedAt !== null && performance.now() - this.openedAt >= STABLE_LINK_MS) this.retries = 0;
    this.openedAt = null;
    const delay = reofferDelayMs(this.role, this.retries);
    if (delay === null || this.retryTimer) return;
    this.retries += 1;
    this.mesh.log(`peer ${this.peer}: offering again in ${delay} ms`);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      // With signaling away the offer could not go out: the next welcome offers instead.
      if (!this.closed && !this.openChannel && this.role === "offerer" && this.mesh.signalingLive) this.offer();
    }, delay);
  }

  /** @param {RTCDataChannel} channel */
  adopt(channel) {
    if (channel.label !== CHANNEL_LABEL) {
      channel.close();
      return;
    }
    this.channels.push(channel);
    // Attach the message handler at once: a late handler can miss the first messages.
    channel.onmessage = (event) => this.mesh.options.onMessage(this.peer, event.data, "direct");
    let announced = false;
    const opened = () => {
      // Once per channel: a received channel can be open already at `datachannel` and still fire
      // `open` afterwards (W3C webrtc "announce the data channel as open").
      if (this.closed || announced) return;
      announced = true;
      if (this.giveUpTimer) clearTimeout(this.giveUpTimer);
      this.giveUpTimer = null;
      this.gaveUp = null;
      this.openedAt = performance.now();
      this.tookMs = this.offeredAt === null ? null : this.openedAt - this.offeredAt;
      this.offeredAt = null;
      this.mesh.log(`peer ${this.peer}: channel open`);
      this.mesh.options.onChange();
      this.mesh.options.onLinkUp(this.peer, "direct");
      // The report names the selected candidate pair, which getStats knows by now.
      void this.measure().then(() => {
        if (this.openChannel && !this.closed) this.mesh.linkEvent(this, "open", null);
      });
    };
    channel.onopen = opened;
    channel.onclose = () => {
      const current = this.channels.includes(channel); // not one of a replaced connection
      this.channels = this.channels.filter((c) => c !== channel);
      if (current && !this.closed && !this.openChannel) {
        this.mesh.log(`peer ${this.peer}: channel closed`);
        this.lost("channel closed", "closed");
      }
      this.mesh.options.onChange();
    };
    if (channel.readyState === "open") opened();
  }

  /** Apply one signaling message, in order (signalqueue.js decides what still waits). @param {any} data */
  signal(data) {
    this.signals.push(data);
    if (!this.applying) void this.applySignals();
  }

  /** Apply what waits, one at a time, until nothing does. */
  async applySignals() {
    this.applying = true;
    try {
      while (!this.closed) {
        const next = this.signals.take(performance.now());
        if (next === null) break;
        if ("waitMs" in next) {
          await new Promise((resolve) => setTimeout(resolve, next.waitMs));
          continue;
        }
        try {
          await this.applySignal(next.data);
        } catch (error) {
          this.mesh.log(`signal from ${this.peer} failed`, error);
        }
      }
    } finally {
      this.applying = false;
    }
  }

  /** @param {any} data */
  async applySignal(data) {
    if (this.closed) return;
    if (data && typeof data === "object" && data.description) {
      const description = data.description;
      if (description.type === "offer") this.offeredAt ??= performance.now();
      let pc = this.pc;
      if (
        description.type === "offer" &&
        (!pc ||
          this.role === "answerer" ||
          (pc.remoteDescription && pc.signalingState === "stable" && !this.makingOffer))
      ) {
        // A first offer, any offer to the answerer, or a fresh one on a connection that was set up
        // before: the other side started over (we never renegotiate an established connection),
        // so start over too. Only an offerer with its own offer out meets glare below.
        pc = this.newConnection();
      }
      if (!pc) return; // an answer for a connection we no longer have
      const collision = description.type === "offer" && (this.makingOffer || pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === "offer") {
        await pc.setLocalDescription();
        const answer = pc.localDescription;
        if (answer) this.mesh.options.sendSignal(this.peer, { description: { type: answer.type, sdp: answer.sdp } });
      }
    } else if (data && typeof data === "object" && "candidate" in data) {
      if (!this.pc || !data.candidate) return; // end of candidates needs no action here
      try {
        await this.pc.addIceCandidate(data.candidate);
      } catch (error) {
        if (!this.ignoreOffer) this.mesh.log(`candidate from ${this.peer} refused`, error);
      }
    }
  }

  /**
   * Send one message over the channel if it is open, else through the relay (from the first
   * moment: nothing waits for the channel), within the relay budget.
   * @param {Message} message @param {string} text its encoding
   * @param {RelayPriority | null} priority null: over the channel only
   */
  send(message, text, priority) {
    const channel = this.openChannel;
    if (channel) {
      try {
        channel.send(text);
        count(this.counters.sentDirect, message.type);
        return true;
      } catch (error) {
        this.mesh.log(`send to ${this.peer} failed`, error);
      }
    }
    if (priority === null || this.closed || this.leaving || !this.mesh.signalingLive) return false;
    if (!this.mesh.relayBudget.take(performance.now(), RELAY_RESERVE[priority])) {
      count(this.counters.droppedRelay, message.type);
      return false;
    }
    if (this.mesh.options.sendRelay(this.peer, message)) {
      count(this.counters.sentRelay, message.type);
      return true;
    }
    return false;
  }

  /** Read the selected candidate pair and its round trip from getStats (linkstatus.js). */
  async measure() {
    const pc = this.pc;
    if (!pc || !this.openChannel) return;
    try {
      const selected = selectedPair(await pc.getStats());
      if (selected.rttMs !== null) this.rttMs = selected.rttMs;
      if (selected.candidates !== null) this.candidates = selected.candidates;
    } catch (error) {
      this.mesh.log(`stats of ${this.peer} failed`, error);
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const timer of [this.giveUpTimer, this.retryTimer]) if (timer) clearTimeout(timer);
    for (const channel of this.channels) channel.close();
    this.channels = [];
    this.pc?.close();
    this.pc = null;
    this.connectionState = "closed";
  }
}
