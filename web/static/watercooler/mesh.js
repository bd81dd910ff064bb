// @ts-check
/**
 * The peer mesh: one PeerLink (peerlink.js) per other viewer of the sprint (docs/protocol.md 1.4
 * and 2.1), created the moment signaling introduces the peer, and the relay budget they share
 * (2.6). It moves encoded messages; what they mean is the board's business.
 *
 * Rules:
 * - The peer that learned of the other from `welcome` is the pair's offerer; the one told by
 *   `peer-joined` is the answerer (roles.js). The offerer offers whenever it has no usable link to a
 *   present peer: from `welcome`, and again (after a growing delay) when its channel closes or its
 *   connection fails. The answerer never initiates; a fresh offer replaces its old connection.
 * - Trickle ICE: the description at once, then every candidate, then `{candidate: null}`.
 * - Relay from the first moment (docs/protocol.md 2.6): until a pair's channel is open, its
 *   messages go through signaling (`relay`), within one budget for all peers, hovers dropped
 *   first and pointer-only hovers before them. Once the channel is open, nothing for that peer
 *   goes through the server. A pair still without a channel 10 s on, or whose link failed, is
 *   shown as relayed (linkstatus.js).
 * - A connection is closed at once on `peer-left`. When it fails or closes, messages use the relay
 *   until the offerer's new offer brings a channel up.
 * - Link reports (docs/protocol.md 1.8): each pair's outcome goes to signaling when it changes
 *   (linkreport.js decides when and what, within its own budget); what could not go while
 *   signaling was away goes after the next `welcome`, if the outcome is not the one signaling
 *   already has.
 */

import { LinkReports } from "./linkreport.js";
import { PeerLink, count, relayPriority } from "./peerlink.js";
import { encodeMessage } from "./protocol.js";
import { introduced } from "./roles.js";
import { TokenBucket } from "./timing.js";

/** @typedef {import("./protocol.js").Message} Message */
/** @typedef {import("./peerlink.js").PeerUser} PeerUser */
/** @typedef {import("./peerlink.js").LinkPath} LinkPath */
/** @typedef {import("./peerlink.js").LinkUp} LinkUp */
/** @typedef {import("./linkreport.js").LinkEvent} LinkEvent */
/** @typedef {import("./linkreport.js").LinkReport} LinkReport */
/**
 * @typedef {{
 *   sendSignal: (to: string, data: object) => boolean,
 *   sendRelay: (to: string, data: object) => boolean,
 *   sendReport: (report: LinkReport) => boolean,
 *   onMessage: (peer: string, frame: unknown, via: "direct" | "relay") => void,
 *   onLinkUp: (peer: string, via: LinkUp) => void,
 *   onChange: () => void,
 *   log?: (...args: unknown[]) => void,
 * }} MeshOptions
 */

/** Our own budget for relayed messages, under signaling's default (20/s, burst 60) for all peers. */
const RELAY_RATE = 15;
const RELAY_BURST = 40;
const STATS_INTERVAL_MS = 2000;

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
    this.reports = new LinkReports();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.reportTimer = null;
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
    this.flushReports();
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
      existing.leaving = false; // introduced again: it came back
      return;
    }
    existing?.close();
    const link = new PeerLink(this, peer, user, role);
    this.links.set(peer, link);
    if (action === "offer") link.offer();
    else link.armGiveUpTimer();
    // The relay reaches it from now on, before any channel.
    if (this.signalingLive) this.options.onLinkUp(peer, "introduced");
  }

  /**
   * The peer said `bye` (docs/protocol.md 2.3): it is leaving on purpose. Its channel's close,
   * which follows, is no outcome to report, and nothing more is relayed to it: it would reach
   * signaling after the peer left and be refused there.
   * @param {string} peer
   */
  saidBye(peer) {
    this.reports.saidBye(peer);
    const link = this.links.get(peer);
    if (link) link.leaving = true;
  }

  /** `peer-left`: close at once. @param {string} peer */
  left(peer) {
    const link = this.links.get(peer);
    if (!link) return false;
    link.close();
    this.links.delete(peer);
    this.reports.forget(peer);
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

  /**
   * A relayed data-channel message, as the whole signaling frame that carried it (its size and
   * shape are judged on that text, docs/protocol.md 2.6). Only from a peer signaling introduced.
   * @param {string} from @param {string} frame
   */
  relay(from, frame) {
    const link = this.links.get(from);
    if (!link) return;
    this.options.onMessage(from, frame, "relay");
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
    return text !== null && link !== undefined && link.send(message, text, relayPriority(message, false));
  }

  /**
   * Send to every peer. @param {Message} message
   * @param {boolean} [positionOnly] a hover that only moves the pointer (first to go over the relay)
   */
  broadcast(message, positionOnly = false) {
    const text = encodeMessage(message);
    if (text === null) return 0;
    const priority = relayPriority(message, positionOnly);
    let sent = 0;
    for (const link of this.links.values()) if (link.send(message, text, priority)) sent += 1;
    return sent;
  }

  /**
   * Something happened to a pair's link (peerlink.js): note it for the link reports and send
   * what is due.
   * @param {PeerLink} link @param {LinkEvent} event @param {string | null} reason
   */
  linkEvent(link, event, reason) {
    if (this.links.get(link.peer) !== link) return; // a link already replaced
    const facts = { event, candidates: link.candidates, tookMs: link.tookMs, rttMs: link.rttMs ?? link.pingRttMs, reason };
    if (this.reports.note(link.peer, facts)) this.flushReports();
  }

  /** Send the reports that wait, while signaling is here; try again later for those over budget. */
  flushReports() {
    if (this.reportTimer) clearTimeout(this.reportTimer);
    this.reportTimer = null;
    if (!this.signalingLive) return; // the next welcome sends what still matters
    this.reports.flush(performance.now(), (report) => this.options.sendReport(report));
    const wait = this.reports.retryMs();
    if (wait !== null) this.reportTimer = setTimeout(() => this.flushReports(), wait);
  }

  async measure() {
    await Promise.all([...this.links.values()].map((link) => link.measure()));
    if (this.links.size) this.options.onChange();
  }

  close() {
    clearInterval(this.statsTimer);
    if (this.reportTimer) clearTimeout(this.reportTimer);
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }
}
