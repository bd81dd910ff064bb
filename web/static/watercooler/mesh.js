// @ts-check
/**
 * The peer mesh: one RTCPeerConnection with one "watercooler" data channel per other viewer of the
 * sprint (docs/protocol.md 1.4 and 2.1), and the relay through signaling when a pair has no direct
 * link (2.6). It moves encoded messages; what they mean is the board's business.
 *
 * Rules:
 * - The peer that learned of the other from `welcome` is the pair's offerer; the one told by
 *   `peer-joined` is the answerer (roles.js). The offerer offers whenever it has no usable link to a
 *   present peer: from `welcome`, and again (after a growing delay) when its channel closes or its
 *   connection fails. The answerer never initiates; a fresh offer replaces its old connection.
 *   Glare is still handled the perfect-negotiation way (the smaller peer id is polite).
 * - Each peer's incoming signaling is applied strictly in order, through one promise chain.
 * - Trickle ICE: the description at once, then every candidate, then `{candidate: null}`.
 * - A connection is closed at once on `peer-left`. When it fails or closes, messages use the relay
 *   until the offerer's new offer brings a channel up.
 */

import { CHANNEL_LABEL, DIRECT_LINK_TIMEOUT_MS, encodeMessage } from "./protocol.js";
import { STABLE_LINK_MS, introduced, reofferDelayMs } from "./roles.js";
import { TokenBucket } from "./timing.js";

/** @typedef {import("./protocol.js").Message} Message */
/** @typedef {{id: string, name: string}} PeerUser */
/** @typedef {"connecting" | "direct" | "relayed" | "closed"} LinkPath */
/** @typedef {import("./roles.js").Role} Role */
/**
 * @typedef {{
 *   sendSignal: (to: string, data: object) => boolean,
 *   sendRelay: (to: string, data: object) => boolean,
 *   onMessage: (peer: string, frame: unknown, via: "direct" | "relay") => void,
 *   onLinkUp: (peer: string, via: "direct" | "relay") => void,
 *   onChange: () => void,
 *   log?: (...args: unknown[]) => void,
 * }} MeshOptions
 */

/** Our own budget for relayed messages, under signaling's default (20/s, burst 60) for all peers. */
const RELAY_RATE = 15;
const RELAY_BURST = 40;
/** Hovers stop when fewer tokens than this are left, so drops and updates still get through. */
const RELAY_HOVER_RESERVE = 20;
const STATS_INTERVAL_MS = 2000;

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
function count(counts, type) {
  counts[type] = (counts[type] ?? 0) + 1;
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
    this.chain = Promise.resolve();
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.relayed = false;
    this.closed = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.relayTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    this.retries = 0;
    /** @type {number | null} when the current channel opened (performance.now()) */
    this.openedAt = null;
    /** @type {number | null} round-trip time from getStats, ms */
    this.rttMs = null;
    /** @type {number | null} round-trip time from ping/pong, ms */
    this.pingRttMs = null;
    /** @type {string | null} local and remote candidate types of the selected pair */
    this.candidates = null;
    this.connectionState = "new";
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

  /** @returns {LinkPath} */
  get path() {
    if (this.closed) return "closed";
    if (this.openChannel) return "direct";
    return this.relayed ? "relayed" : "connecting";
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
      if (pc.connectionState === "failed" || pc.connectionState === "closed") this.lost("connection " + pc.connectionState);
      this.mesh.options.onChange();
    };
    pc.ondatachannel = ({ channel }) => {
      if (pc === this.pc) this.adopt(channel);
    };
    this.armRelayTimer();
    return pc;
  }

  /** Start a fresh connection and offer (we are the offerer of this pair). */
  offer() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const pc = this.newConnection();
    this.adopt(pc.createDataChannel(CHANNEL_LABEL));
  }

  /** If the channel is not open within the limit, fall back to the relay. */
  armRelayTimer() {
    if (this.relayTimer) clearTimeout(this.relayTimer);
    this.relayTimer = setTimeout(() => {
      this.relayTimer = null;
      if (!this.openChannel && !this.closed) this.useRelay("no direct link within 10 s");
    }, DIRECT_LINK_TIMEOUT_MS);
  }

  /** @param {string} why */
  useRelay(why) {
    if (this.relayed || this.closed) return;
    this.mesh.log(`peer ${this.peer}: relaying through signaling (${why})`);
    this.relayed = true;
    this.mesh.options.onChange();
    this.mesh.options.onLinkUp(this.peer, "relay");
  }

  /** The direct link is gone: relay for now; the offerer offers again. @param {string} why */
  lost(why) {
    if (this.closed) return;
    if (this.openChannel) return;
    this.useRelay(why);
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
      if (this.relayTimer) clearTimeout(this.relayTimer);
      this.relayTimer = null;
      this.relayed = false;
      this.openedAt = performance.now();
      this.mesh.log(`peer ${this.peer}: channel open`);
      this.mesh.options.onChange();
      this.mesh.options.onLinkUp(this.peer, "direct");
    };
    channel.onopen = opened;
    channel.onclose = () => {
      const current = this.channels.includes(channel); // not one of a replaced connection
      this.channels = this.channels.filter((c) => c !== channel);
      if (current && !this.closed && !this.openChannel) {
        this.mesh.log(`peer ${this.peer}: channel closed`);
        this.lost("channel closed");
      }
      this.mesh.options.onChange();
    };
    if (channel.readyState === "open") opened();
  }

  /** Apply one signaling message, in order. @param {any} data */
  signal(data) {
    this.chain = this.chain.then(() => this.applySignal(data)).catch((error) => {
      this.mesh.log(`signal from ${this.peer} failed`, error);
    });
  }

  /** @param {any} data */
  async applySignal(data) {
    if (this.closed) return;
    if (data && typeof data === "object" && data.description) {
      const description = data.description;
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
   * Send one message directly if the channel is open, else through the relay when relaying.
   * @param {Message} message @param {string} text its encoding
   */
  send(message, text) {
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
    if (!this.relayed) return false;
    const reserve = message.type === "drag-hover" ? RELAY_HOVER_RESERVE : 0;
    if (!this.mesh.relayBudget.take(performance.now(), reserve)) {
      count(this.counters.droppedRelay, message.type);
      return false;
    }
    if (this.mesh.options.sendRelay(this.peer, message)) {
      count(this.counters.sentRelay, message.type);
      return true;
    }
    return false;
  }

  async measure() {
    const pc = this.pc;
    if (!pc || !this.openChannel) return;
    try {
      const stats = await pc.getStats();
      /** @type {any} */
      let pair = null;
      stats.forEach((report) => {
        if (report.type === "transport" && report.selectedCandidatePairId) {
          pair = stats.get(report.selectedCandidatePairId) ?? pair;
        }
      });
      if (!pair) {
        stats.forEach((report) => {
          if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") pair = report;
        });
      }
      if (pair) {
        if (typeof pair.currentRoundTripTime === "number") this.rttMs = pair.currentRoundTripTime * 1000;
        const local = stats.get(pair.localCandidateId);
        const remote = stats.get(pair.remoteCandidateId);
        this.candidates = `${local?.candidateType ?? "?"}/${remote?.candidateType ?? "?"}`;
      }
    } catch (error) {
      this.mesh.log(`stats of ${this.peer} failed`, error);
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const timer of [this.relayTimer, this.retryTimer]) if (timer) clearTimeout(timer);
    for (const channel of this.channels) channel.close();
    this.channels = [];
    this.pc?.close();
    this.pc = null;
    this.connectionState = "closed";
  }
}

export class PeerMesh {
  /** @param {MeshOptions} options */
  constructor(options) {
    this.options = options;
    this.log = options.log ?? (() => {});
    /** @type {string | null} */
    this.self = null;
    /** @type {RTCIceServer[]} */
    this.iceServers = [];
    /** @type {Map<string, PeerLink>} */
    this.links = new Map();
    this.signalingLive = false;
    /** Shared by every peer: signaling limits relays per connection, not per pair. */
    this.relayBudget = new TokenBucket(RELAY_RATE, RELAY_BURST);
    this.statsTimer = setInterval(() => void this.measure(), STATS_INTERVAL_MS);
  }

  /**
   * A `welcome`: who we are, the ICE servers, and the peers already there. We are the offerer of
   * each listed pair: we offer to each listed peer we have no open channel with (replacing a link
   * that is not open), and keep an open one (if the other side closed it meanwhile, its close
   * brings a re-offer). A link is never closed for being missing from the list (that peer may not
   * have rejoined yet).
   * @param {string} self @param {RTCIceServer[]} iceServers @param {{peer: string, user: PeerUser}[]} peers
   */
  welcome(self, iceServers, peers) {
    this.self = self;
    this.iceServers = iceServers;
    this.signalingLive = true;
    for (const { peer, user } of peers) this.introduce("welcome", peer, user);
    this.options.onChange();
  }

  /** `peer-joined`: we are the answerer; wait for its offer (keep an open channel). @param {string} peer @param {PeerUser} user */
  joined(peer, user) {
    this.introduce("peer-joined", peer, user);
    this.options.onChange();
  }

  /** @param {"welcome" | "peer-joined"} via @param {string} peer @param {PeerUser} user */
  introduce(via, peer, user) {
    const existing = this.links.get(peer);
    const { role, action } = introduced(via, existing?.openChannel !== undefined);
    if (existing && action === "keep") {
      existing.role = role;
      existing.user = user;
      return;
    }
    existing?.close();
    const link = new PeerLink(this, peer, user, role);
    this.links.set(peer, link);
    if (action === "offer") link.offer();
    else link.armRelayTimer();
  }

  /** `peer-left`: close at once. @param {string} peer */
  left(peer) {
    const link = this.links.get(peer);
    if (!link) return false;
    link.close();
    this.links.delete(peer);
    this.options.onChange();
    return true;
  }

  /** Signaling went away: keep every open channel; nothing new can be negotiated meanwhile. */
  signalingLost() {
    this.signalingLive = false;
    this.options.onChange();
  }

  /** @param {string} from @param {any} data */
  signal(from, data) {
    const link = this.links.get(from);
    if (link) link.signal(data);
    else this.log(`signal from unknown peer ${from} dropped`);
  }

  /** A relayed data-channel message. @param {string} from @param {any} data */
  relay(from, data) {
    const link = this.links.get(from);
    if (!link) return;
    this.options.onMessage(from, JSON.stringify(data), "relay");
  }

  /** @param {string} peer @param {string} type @param {"direct" | "relay"} via */
  countReceived(peer, type, via) {
    const link = this.links.get(peer);
    if (link) count(via === "direct" ? link.counters.receivedDirect : link.counters.receivedRelay, type);
  }

  /** Send to one peer. @param {string} peer @param {Message} message */
  send(peer, message) {
    const text = encodeMessage(message);
    const link = this.links.get(peer);
    return text !== null && link !== undefined && link.send(message, text);
  }

  /** Send to every peer. @param {Message} message */
  broadcast(message) {
    const text = encodeMessage(message);
    if (text === null) return 0;
    let sent = 0;
    for (const link of this.links.values()) if (link.send(message, text)) sent += 1;
    return sent;
  }

  async measure() {
    await Promise.all([...this.links.values()].map((link) => link.measure()));
    if (this.links.size) this.options.onChange();
  }

  close() {
    clearInterval(this.statsTimer);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }
}
