// @ts-check
/**
 * The board's REST API as the page uses it (session auth, CSRF header). Only `fetch`; no DOM.
 */

/** @typedef {import("./protocol.js").Task} Task */
/** @typedef {{url: string, ticket: string, expires: string}} SignalingLink */
/** @typedef {{id: number, name: string, description: string, end: string, links: {signaling?: SignalingLink}}} Sprint */
/** @typedef {{id: number, username: string, full_name: string}} User */

/** An answer other than 2xx; `body` is the parsed JSON when there was some. */
export class ApiError extends Error {
  /** @param {number} status @param {any} body @param {string} message */
  constructor(status, body, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/**
 * Turn DRF's error bodies into one readable sentence.
 * @param {any} body @param {number} status
 */
export function describeError(body, status) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = [];
    for (const [field, messages] of Object.entries(body)) {
      const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
      parts.push(field === "non_field_errors" ? text : `${field}: ${text}`);
    }
    if (parts.length) return parts.join(" ");
  }
  return status === 0 ? "The board could not be reached." : `The board answered HTTP ${status}.`;
}

export class BoardApi {
  /** @param {string} root e.g. "/api/" @param {string} csrfToken */
  constructor(root, csrfToken) {
    this.root = root.endsWith("/") ? root : `${root}/`;
    this.csrfToken = csrfToken;
  }

  /**
   * @param {string} method @param {string} path relative to the API root
   * @param {unknown} [body]
   */
  async request(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = this.csrfToken;
    let response;
    try {
      response = await fetch(this.root + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, null, `The board could not be reached (${error}).`);
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, data, describeError(data, response.status));
    return data;
  }

  /** @param {number} id @returns {Promise<Sprint>} */
  sprint(id) {
    return this.request("GET", `sprints/${id}/`);
  }

  /** @param {number} id @returns {Promise<SignalingLink>} */
  ticket(id) {
    return this.request("GET", `sprints/${id}/ticket/`);
  }

  /** Every task of the sprint and of the backlog. @param {number} sprintId @returns {Promise<Task[]>} */
  async boardTasks(sprintId) {
    const [sprint, backlog] = await Promise.all([
      this.allPages(`tasks/?sprint=${sprintId}&page_size=500`),
      this.allPages("tasks/?backlog=true&page_size=500"),
    ]);
    return [...sprint, ...backlog];
  }

  /** Every task of the backlog (unchecked: the caller checks the fields). @returns {Promise<unknown[]>} */
  backlog() {
    return this.allPages("tasks/?backlog=true&page_size=500");
  }

  /** @param {string} path @returns {Promise<any[]>} */
  async allPages(path) {
    const results = [];
    /** @type {string | null} */
    let next = path;
    while (next) {
      const page = await this.request("GET", next);
      results.push(...page.results);
      next = page.next ? page.next.slice(page.next.indexOf(this.root) + this.root.length) : null;
    }
    return results;
  }

  /** @returns {Promise<User[]>} */
  async users() {
    return this.allPages("users/?page_size=500");
  }

  /**
   * One task as the board holds it now, or null if the board has no such task (404).
   * @param {number} id @returns {Promise<unknown>} unchecked: the caller checks the fields
   */
  async task(id) {
    try {
      return await this.request("GET", `tasks/${id}/`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  /** @param {Partial<Task>} fields @returns {Promise<Task>} */
  createTask(fields) {
    return this.request("POST", "tasks/", fields);
  }

  /** @param {number} id @param {Partial<Task>} fields @returns {Promise<Task>} */
  updateTask(id, fields) {
    return this.request("PATCH", `tasks/${id}/`, fields);
  }

  /**
   * @param {number} id
   * @param {{sprint: number | null, status: string, position: number, version: number}} body
   * @returns {Promise<Task>}
   */
  moveTask(id, body) {
    return this.request("POST", `tasks/${id}/move/`, body);
  }
}
