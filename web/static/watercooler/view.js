// @ts-check
/**
 * Drawing the board page from the client's state: columns and cards (with other people's drags and
 * pending drops), who is viewing, the connection indicator, notices, and the task dialog. It reads
 * state and writes DOM; it never talks to the network.
 */

import { COLUMNS } from "./protocol.js";
import { colourOf, initialsOf } from "./presence.js";

/** @typedef {import("./protocol.js").Task} Task */
/** @typedef {import("./protocol.js").Column} Column */
/** @typedef {import("./protocol.js").Place} Place */
/** @typedef {import("./protocol.js").Pointer} Pointer */
/** @typedef {import("./ghostmotion.js").Spot} Spot */
/** @typedef {import("./boardstate.js").BoardState} BoardState */
/** @typedef {{peer: string, userId: string, name: string, self?: boolean}} Person */
/**
 * @typedef {{
 *   peer: string, name: string, userId: string, path: string, label: string, detail: string,
 *   connectionState: string, rttMs: number | null
 * }} LinkInfo
 */

const TITLES = /** @type {Record<Column, string>} */ ({
  backlog: "Backlog",
  not_started: "Not Started",
  in_progress: "In Progress",
  testing: "Testing",
  done: "Done",
});

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {Record<string, string>} [attrs] @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") el.textContent = value;
    else el.setAttribute(key, value);
  }
  for (const child of children) el.append(child);
  return el;
}

/** "2026-05-14" → "14 May". @param {string | null | undefined} iso */
function shortDate(iso) {
  if (!iso) return "";
  const date = new Date(`${iso}T00:00:00`);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleDateString(undefined, { day: "numeric", month: "short" });
}

/** @param {string | number} userId @param {string} name @param {string} [extraClass] */
export function avatar(userId, name, extraClass = "") {
  const el = h("span", {
    class: `avatar ${extraClass}`.trim(),
    title: name,
    "data-user-id": String(userId),
    text: initialsOf(name),
  });
  el.style.setProperty("--who", colourOf(userId));
  return el;
}

export class BoardView {
  /** @param {Document} doc @param {{sprintId: number, userId: number}} config */
  constructor(doc, config) {
    this.doc = doc;
    this.config = config;
    this.board = /** @type {HTMLElement} */ (doc.getElementById("board"));
    this.presence = /** @type {HTMLElement} */ (doc.getElementById("presence"));
    this.status = /** @type {HTMLElement} */ (doc.getElementById("live-status"));
    this.linkList = /** @type {HTMLElement} */ (doc.getElementById("peer-links"));
    this.signalingLine = /** @type {HTMLElement} */ (doc.getElementById("signaling-line"));
    this.notices = /** @type {HTMLElement} */ (doc.getElementById("notices"));
    this.announcer = /** @type {HTMLElement} */ (doc.getElementById("announcer"));
    /** @type {Map<number, HTMLLIElement>} */
    this.cards = new Map();
    /** @type {Record<string, HTMLOListElement>} */
    this.lists = {};
    /** @type {Record<string, HTMLElement>} */
    this.counts = {};
    /** @type {(column: Column, name: string) => void} */
    this.onAddTask = () => {};
    /** @type {(id: number) => void} */
    this.onEditTask = () => {};
    this.buildColumns();
  }

  /** Replace the server-rendered board with the live one (same structure, plus controls). */
  buildColumns() {
    this.board.replaceChildren();
    for (const column of COLUMNS) {
      const count = h("span", { class: "count", text: "0" });
      const list = h("ol", { class: "tasks", "aria-label": TITLES[column] });
      const section = h("section", { class: "column", "data-column": column }, [
        h("h2", {}, [TITLES[column], " ", count]),
        list,
      ]);
      if (column === "backlog") {
        const input = h("input", { name: "name", placeholder: "Add a task…", "aria-label": "New task name", maxlength: "100", required: "" });
        const form = h("form", { class: "add-task" }, [input, h("button", { type: "submit", text: "Add" })]);
        form.addEventListener("submit", (event) => {
          event.preventDefault();
          const name = input.value.trim();
          if (!name) return;
          input.value = "";
          this.onAddTask("backlog", name);
        });
        section.append(form);
      }
      this.lists[column] = list;
      this.counts[column] = count;
      this.board.append(section);
    }
    // Other people's dragged cards, drawn under their pointers (remoteghosts.js moves them).
    this.floatLayer = h("div", { class: "remote-floats", "aria-hidden": "true" });
    this.board.append(this.floatLayer);
  }

  /**
   * Where a pointer at client coordinates is, in board terms: the column under it (or the
   * nearest one across) and fractions of that column's width and height, so a window of another
   * size can put it at the same spot.
   * @param {number} clientX @param {number} clientY @returns {Pointer | null}
   */
  pointerAt(clientX, clientY) {
    /** @type {{column: Column, rect: DOMRect, distance: number} | null} */
    let nearest = null;
    for (const section of this.board.querySelectorAll(":scope > .column")) {
      const rect = section.getBoundingClientRect();
      const distance = clientX < rect.left ? rect.left - clientX : clientX > rect.right ? clientX - rect.right : 0;
      const column = /** @type {Column} */ (/** @type {HTMLElement} */ (section).dataset.column);
      if (!nearest || distance < nearest.distance) nearest = { column, rect, distance };
    }
    if (!nearest || nearest.rect.width <= 0 || nearest.rect.height <= 0) return null;
    const { rect } = nearest;
    const fraction = (/** @type {number} */ value) => Math.round(Math.min(1, Math.max(0, value)) * 10_000) / 10_000;
    return {
      column: nearest.column,
      x: fraction((clientX - rect.left) / rect.width),
      y: fraction((clientY - rect.top) / rect.height),
    };
  }

  /** A pointer in board terms as a spot in the float layer's pixels. @param {Pointer} pointer @returns {Spot | null} */
  spotOf(pointer) {
    const section = this.board.querySelector(`:scope > .column[data-column="${pointer.column}"]`);
    if (!section) return null;
    const rect = section.getBoundingClientRect();
    const origin = this.board.getBoundingClientRect();
    return {
      x: rect.left - origin.left - this.board.clientLeft + this.board.scrollLeft + pointer.x * rect.width,
      y: rect.top - origin.top - this.board.clientTop + this.board.scrollTop + pointer.y * rect.height,
    };
  }

  /**
   * The card someone else drags, as drawn under their pointer.
   * @param {Task} task @param {Person | undefined} person @returns {HTMLElement}
   */
  remoteFloat(task, person) {
    const name = person?.name ?? "Someone";
    const float = h("div", { class: "remote-float", "data-task-id": String(task.id), "data-peer": person?.peer ?? "" }, [
      h("div", { class: "title" }, [h("strong", { text: task.name })]),
      h("span", { class: "mover" }, [avatar(person?.userId ?? "?", name, "small"), ` ${name}`]),
    ]);
    float.style.setProperty("--who", colourOf(person?.userId ?? "?"));
    this.floatLayer.append(float);
    return float;
  }

  /** Draw a remote float with its centre at `spot`. @param {HTMLElement} float @param {Spot} spot */
  placeFloat(float, spot) {
    float.style.transform = `translate(${spot.x}px, ${spot.y}px) translate(-50%, -50%)`;
  }

  /**
   * Draw every column.
   * @param {BoardState} state
   * @param {(peer: string) => Person | undefined} who the person behind a peer id ("self" is us)
   */
  render(state, who) {
    const view = state.columns();
    /** @type {Map<number, import("./boardstate.js").Drag>} our own drag wins over someone else's */
    const draggedBy = new Map();
    for (const drag of state.drags.values()) {
      if (draggedBy.get(drag.task)?.by !== "self") draggedBy.set(drag.task, drag);
    }
    const seen = new Set();
    for (const column of COLUMNS) {
      const list = this.lists[column];
      /** @type {HTMLElement[]} */
      const items = [];
      for (const id of view[column]) {
        const task = state.tasks.get(id);
        if (!task) continue;
        seen.add(id);
        // Each card on its own: one record that cannot be drawn must not stop the others.
        try {
          const card = this.card(task);
          const drag = draggedBy.get(id);
          const overlay = state.overlays.get(id);
          this.mark(card, drag ? who(drag.by) : undefined, overlay ? who(overlay.by) : undefined, drag?.by === "self");
          items.push(card);
        } catch (error) {
          console.warn("[watercooler] card not drawn", id, error);
          items.push(this.unreadableCard(id));
        }
      }
      // Where each drag hovers: a ghost among the column's other cards.
      for (const drag of state.drags.values()) {
        if (drag.over.column !== column) continue;
        const task = state.tasks.get(drag.task);
        if (!task) continue;
        try {
          const person = who(drag.by);
          const others = items.filter((item) => item.dataset.taskId !== String(drag.task) && item.classList.contains("task"));
          const anchor = others[drag.over.index];
          const ghost = this.ghost(task, person, drag.by === "self");
          const at = anchor ? items.indexOf(anchor) : items.length;
          items.splice(at, 0, ghost);
        } catch (error) {
          console.warn("[watercooler] drag not drawn", drag.task, error);
        }
      }
      this.counts[column].textContent = String(view[column].length);
      // Reorder in place so focus and an ongoing pointer capture survive a redraw.
      items.forEach((item, index) => {
        if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
      });
      while (list.children.length > items.length) list.lastElementChild?.remove();
    }
    for (const [id, card] of this.cards) {
      if (!seen.has(id)) {
        card.remove();
        this.cards.delete(id);
      }
    }
  }

  /** A card for a task whose record could not be drawn: its id, and nothing it could break. @param {number} id */
  unreadableCard(id) {
    const card = this.cards.get(id) ?? h("li", { class: "task", "data-task-id": String(id) });
    this.cards.set(id, card);
    card.dataset.key = "";
    card.classList.add("unreadable");
    card.replaceChildren(h("div", { class: "title" }, [h("strong", { text: `Task #${id}` })]));
    return card;
  }

  /** The card element of a task, created or brought up to date. @param {Task} task */
  card(task) {
    let card = this.cards.get(task.id);
    if (!card) {
      card = h("li", { class: "task", tabindex: "0", "data-task-id": String(task.id), "aria-roledescription": "card" });
      const id = task.id;
      card.addEventListener("dblclick", () => this.onEditTask(id));
      this.cards.set(task.id, card);
    }
    const key = `${task.version}|${task.name}|${task.assignee_name}|${task.due}`;
    if (card.dataset.key !== key || card.classList.contains("unreadable")) {
      card.classList.remove("unreadable");
      card.dataset.key = key;
      const meta = h("div", { class: "meta" });
      if (task.assignee != null && task.assignee_name) {
        meta.append(h("span", { class: "assignee" }, [avatar(task.assignee, task.assignee_name, "small"), task.assignee_name]));
      } else {
        meta.append(h("span", { class: "assignee unassigned", text: "Unassigned" }));
      }
      if (task.due) meta.append(h("span", { class: "due", title: `due ${task.due}`, text: `due ${shortDate(task.due)}` }));
      const edit = h("button", { type: "button", class: "edit", title: "Edit task", "aria-label": `Edit ${task.name}`, text: "✎" });
      edit.addEventListener("click", () => this.onEditTask(task.id));
      card.replaceChildren(h("div", { class: "title" }, [h("strong", { text: task.name }), edit]), meta);
      card.setAttribute("aria-label", `${task.name}${task.assignee_name ? `, ${task.assignee_name}` : ""}`);
    }
    card.dataset.version = String(task.version);
    return card;
  }

  /**
   * Mark a card dragged by someone, or dropped and not yet saved.
   * @param {HTMLLIElement} card @param {Person | undefined} dragger @param {Person | undefined} dropper
   * @param {boolean} ownDrag
   */
  mark(card, dragger, dropper, ownDrag) {
    card.classList.toggle("drag-source", ownDrag);
    card.classList.toggle("remote-drag", Boolean(dragger) && !ownDrag);
    card.classList.toggle("pending", Boolean(dropper));
    const person = (!ownDrag && dragger) || dropper;
    card.querySelector(".mover")?.remove();
    if (person) {
      card.style.setProperty("--who", colourOf(person.userId));
      const text = dragger && !ownDrag ? `${person.name} is moving this` : person.self ? "saving…" : `moved by ${person.name}`;
      card.dataset.movedBy = person.self ? "self" : person.name;
      card.append(h("span", { class: "mover", text }));
    } else {
      card.style.removeProperty("--who");
      delete card.dataset.movedBy;
    }
  }

  /** @param {Task} task @param {Person | undefined} person @param {boolean} own */
  ghost(task, person, own) {
    if (own) return h("li", { class: "placeholder", "data-task-id": String(task.id), "aria-hidden": "true" });
    const name = person?.name ?? "Someone";
    const ghost = h("li", { class: "ghost", "data-task-id": String(task.id), "data-peer": person?.peer ?? "" }, [
      avatar(person?.userId ?? "?", name, "small"),
      h("span", { class: "ghost-text" }, [h("strong", { text: name }), ` · ${task.name}`]),
    ]);
    ghost.style.setProperty("--who", colourOf(person?.userId ?? "?"));
    return ghost;
  }

  /** Who is viewing: one avatar per person, us first. @param {Person[]} people */
  renderPresence(people) {
    /** @type {Map<string, {person: Person, tabs: number}>} */
    const byUser = new Map();
    for (const person of people) {
      const entry = byUser.get(person.userId);
      if (entry) entry.tabs += 1;
      else byUser.set(person.userId, { person, tabs: 1 });
    }
    const avatars = [...byUser.values()].map(({ person, tabs }) => {
      const el = avatar(person.userId, person.name, person.self ? "me" : "");
      el.title = `${person.name}${person.self ? " (you)" : ""}${tabs > 1 ? ` · ${tabs} tabs` : ""}`;
      el.dataset.name = person.name;
      return el;
    });
    this.presence.replaceChildren(...avatars);
    this.presence.dataset.count = String(byUser.size);
  }

  /**
   * The connection indicator: signaling state and each peer's link.
   * @param {string} state @param {{retryInMs?: number, reason?: string}} detail @param {LinkInfo[]} links
   */
  renderConnection(state, detail, links) {
    const labels = { live: "Live", connecting: "Connecting…", off: "Live updates off", closed: "Live updates off" };
    this.status.dataset.state = state;
    this.status.textContent = labels[/** @type {keyof typeof labels} */ (state)] ?? state;
    let line = state === "live" ? "Signaling connected." : state === "connecting" ? "Connecting to signaling…" : "Signaling unreachable: board changes by others are not shown live.";
    if (state === "off" && detail.retryInMs !== undefined) line += ` Retrying in ${Math.ceil(detail.retryInMs / 1000)} s.`;
    this.signalingLine.textContent = line;
    this.signalingLine.title = detail.reason ?? "";
    const items = links.map((link) => {
      const rtt = link.rttMs === null ? "–" : `${link.rttMs < 10 ? link.rttMs.toFixed(1) : Math.round(link.rttMs)} ms`;
      const li = h("li", { "data-peer": link.peer, "data-path": link.path, "data-state": link.connectionState }, [
        avatar(link.userId, link.name, "small"),
        h("span", { class: "link-name", text: link.name }),
        h("span", { class: `path path-${link.path}`, text: link.label }),
        h("span", { class: "rtt", title: "round-trip time", text: rtt }),
        h("span", { class: "link-state", text: link.detail }),
      ]);
      return li;
    });
    if (!items.length) items.push(h("li", { class: "muted", text: "Nobody else is here." }));
    this.linkList.replaceChildren(...items);
  }

  /** A short message; errors stay a little longer. @param {string} text @param {"info" | "error"} [kind] */
  notify(text, kind = "info") {
    const notice = h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status", text });
    this.notices.append(notice);
    setTimeout(() => notice.remove(), kind === "error" ? 8000 : 4000);
  }

  /** Read aloud to screen readers (keyboard moves). @param {string} text */
  announce(text) {
    this.announcer.textContent = text;
  }

  /** Flash a card that was put back. @param {number} id */
  flashReverted(id) {
    const card = this.cards.get(id);
    if (!card) return;
    card.classList.add("reverted");
    setTimeout(() => card.classList.remove("reverted"), 1500);
  }

  /** Where a point is on the board: the column and the index among the other cards. @param {number} x @param {number} y @param {number} taskId */
  placeAt(x, y, taskId) {
    const hit = this.doc.elementFromPoint(x, y);
    const section = /** @type {HTMLElement | null} */ (hit?.closest(".column") ?? null);
    if (!section) return null;
    const column = /** @type {Column} */ (section.dataset.column);
    const cards = [...this.lists[column].querySelectorAll(":scope > .task")].filter(
      (card) => card instanceof HTMLElement && card.dataset.taskId !== String(taskId),
    );
    let index = 0;
    for (const card of cards) {
      const rect = card.getBoundingClientRect();
      if (y > rect.top + rect.height / 2) index += 1;
    }
    return { column, index };
  }

  /** Focus a card once the pending redraw has shown it again. @param {number} id */
  focusCard(id) {
    setTimeout(() => this.cards.get(id)?.focus(), 0);
  }
}
