// @ts-check
/**
 * The signaling client (docs/protocol.md section 1): one websocket that joins the sprint with a
 * ticket, reconnects by itself with capped backoff and jitter, resumes its peer id, and fetches a
 * fresh ticket when the old one expired or was refused. It only moves messages; the mesh and the
 * board decide what they mean.
 */

import { Backoff } from "./timing.js";

/** @typedef {import("./api.js").SignalingLink} SignalingLink */
/** @typedef {"connecting" | "live" | "off" | "closed"} SignalingState */
/**
 * @typedef {{
 *   getLink: (fresh: boolean) => Promise<SignalingLink>,
 *   onMessage: (message: any, text?: string) => void,
 *   onState: (state: SignalingState, detail: {retryInMs?: number, reason?: string}) => void,
 *   log?: (...args: unknown[]) => void,
 * }} SignalingOptions
 */

/** Close codes after which retrying with the same ticket cannot help. */
const TICKET_REFUSED = 4401;
const REPLACED = 4000;
/** Renew a ticket this long before it expires. */
const TICKET_MARGIN_MS = 15_000;

export class SignalingClient {
  /** @param {SignalingOptions} options */
  constructor(options) {
    this.options = options;
    this.log = options.log ?? (() => {});
    this.backoff = new Backoff({ baseMs: 250, capMs: 5000 });
    this.shouldConnect = false;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {SignalingLink | null} */
    this.link = null;
    this.needFreshTicket = false;
    /** @type {string | null} */
    this.resume = null;
    /** @type {string | null} */
    this.peer = null;
    /** @type {SignalingState} */
    this.state = "off";
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
    this.joined = false;
    this.sent = 0;
  }

  /** @param {SignalingLink} [link] the link from the sprint detail, if the page has one */
  connect(link) {
    if (link) this.link = link;
    this.shouldConnect = true;
    if (!this.ws && !this.retryTimer) void this.open();
  }

  /** Stop for good (page closing). */
  close() {
    this.shouldConnect = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ws?.close(1000, "bye");
    this.ws = null;
    this.setState("closed", {});
  }

  /** Send a message if joined; returns whether it went out. @param {object} message */
  send(message) {
    if (!this.ws || !this.joined || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    this.sent += 1;
    return true;
  }

  /** @param {SignalingState} state @param {{retryInMs?: number, reason?: string}} detail */
  setState(state, detail) {
    this.state = state;
    this.options.onState(state, detail);
  }

  async open() {
    this.retryTimer = null;
    if (!this.shouldConnect) return;
    this.setState("connecting", {});
    let link;
    try {
      const expired = this.link && Date.parse(this.link.expires) - Date.now() < TICKET_MARGIN_MS;
      if (!this.link || this.needFreshTicket || expired) {
        this.link = await this.options.getLink(true);
        this.needFreshTicket = false;
      }
      link = this.link;
    } catch (error) {
      this.log("signaling: no ticket:", error);
      this.retry("could not get a ticket from the board");
      return;
    }
    if (!this.shouldConnect) return;
    let ws;
    try {
      ws = new WebSocket(link.url);
    } catch (error) {
      this.log("signaling: bad url", error);
      this.retry(`bad signaling URL ${link.url}`);
      return;
    }
    this.ws = ws;
    this.joined = false;
    ws.onopen = () => {
      /** @type {Record<string, string>} */
      const join = { type: "join", ticket: link.ticket };
      if (this.resume) join.resume = this.resume;
      ws.send(JSON.stringify(join));
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      const text = String(event.data);
      let message;
      try {
        message = JSON.parse(text);
      } catch {
        this.log("signaling: not JSON", event.data);
        return;
      }
      if (!message || typeof message.type !== "string") return;
      if (message.type === "welcome") {
        this.joined = true;
        this.peer = message.peer;
        this.resume = typeof message.resume === "string" ? message.resume : null;
        this.backoff.reset();
        this.setState("live", {});
      } else if (message.type === "error") {
        this.log(`signaling error ${message.code}: ${message.message}`);
      }
      // The text goes along: a relayed message is judged on the frame that carried it (2.6).
      this.options.onMessage(message, text);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.joined = false;
      this.log(`signaling closed: ${event.code} ${event.reason}`);
      if (event.code === TICKET_REFUSED) this.needFreshTicket = true;
      if (event.code === REPLACED) {
        // Another connection resumed our peer id; two would fight. Start over as a new peer.
        this.resume = null;
      }
      this.options.onMessage({ type: "disconnected", code: event.code, reason: event.reason });
      this.retry(event.reason || `connection closed (${event.code})`);
    };
  }

  /** @param {string} reason */
  retry(reason) {
    if (!this.shouldConnect) return;
    const delay = this.backoff.next();
    this.setState("off", { retryInMs: delay, reason });
    this.retryTimer = setTimeout(() => void this.open(), delay);
  }

  /** Try again now (the browser came back online). */
  retryNow() {
    if (!this.shouldConnect || this.ws) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    void this.open();
  }
}
