// @ts-check
/**
 * Moving cards by hand: pointer events (mouse, pen, touch) and the keyboard. It turns gestures into
 * four calls (start, hover, drop, cancel) and draws the card under the pointer; what a move means
 * is decided by the caller. `hover` comes with every pointer move, with the pointer in board terms
 * (the keyboard has none).
 *
 * Keyboard: focus a card, Space or Enter picks it up, the arrow keys move it (left/right between
 * columns, up/down within one), Space or Enter drops it, Escape puts it back.
 */

import { COLUMNS } from "./protocol.js";

/** @typedef {import("./protocol.js").Place} Place */
/** @typedef {import("./protocol.js").Pointer} Pointer */
/**
 * @typedef {{
 *   placeOf: (task: number) => Place | null,
 *   columnLength: (column: import("./protocol.js").Column, without: number) => number,
 *   start: (task: number, from: Place) => boolean,
 *   hover: (task: number, over: Place, pointer?: Pointer | null) => void,
 *   drop: (task: number, to: Place) => void,
 *   cancel: (task: number) => void,
 * }} DragCallbacks
 */

/** How far the pointer must travel before a press becomes a drag (a click stays a click). */
const DRAG_THRESHOLD_PX = 5;

export class DragController {
  /**
   * @param {import("./view.js").BoardView} view
   * @param {DragCallbacks} callbacks
   */
  constructor(view, callbacks) {
    this.view = view;
    this.callbacks = callbacks;
    /** @type {null | {task: number, pointerId: number, x: number, y: number, offsetX: number, offsetY: number, card: HTMLElement, started: boolean, over: Place | null, float: HTMLElement | null}} */
    this.pointer = null;
    /** @type {null | {task: number, over: Place}} */
    this.keyboard = null;
    const board = view.board;
    board.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    // On the document: the picked-up card is hidden while it moves, which takes the focus away.
    document.addEventListener("keydown", (event) => this.onKeyDown(event));
    this.onMove = (/** @type {PointerEvent} */ event) => this.onPointerMove(event);
    this.onUp = (/** @type {PointerEvent} */ event) => this.onPointerUp(event, false);
    this.onCancelPointer = (/** @type {PointerEvent} */ event) => this.onPointerUp(event, true);
  }

  /** Is a drag of ours in progress? */
  get active() {
    return Boolean(this.pointer?.started || this.keyboard);
  }

  /** @param {PointerEvent} event */
  onPointerDown(event) {
    if (this.pointer || this.keyboard || !event.isPrimary || event.button !== 0) return;
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest("button, input, textarea, select, a")) return;
    // A card someone else dropped (pending) can still be picked up: `start` decides.
    const card = /** @type {HTMLElement | null} */ (target.closest(".task"));
    if (!card) return;
    const rect = card.getBoundingClientRect();
    this.pointer = {
      task: Number(card.dataset.taskId),
      pointerId: event.pointerId,
      x: event.clientX,
      y: event.clientY,
      offsetX: event.clientX - rect.left,
      offsetY: event.clientY - rect.top,
      card,
      started: false,
      over: null,
      float: null,
    };
    window.addEventListener("pointermove", this.onMove);
    window.addEventListener("pointerup", this.onUp);
    window.addEventListener("pointercancel", this.onCancelPointer);
  }

  /** @param {PointerEvent} event */
  onPointerMove(event) {
    const drag = this.pointer;
    if (!drag || event.pointerId !== drag.pointerId) return;
    if (!drag.started) {
      if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_THRESHOLD_PX) return;
      const from = this.callbacks.placeOf(drag.task);
      if (!from || !this.callbacks.start(drag.task, from)) {
        this.release();
        return;
      }
      drag.started = true;
      drag.over = from;
      const rect = drag.card.getBoundingClientRect();
      const float = /** @type {HTMLElement} */ (drag.card.cloneNode(true));
      float.classList.remove("drag-source", "remote-drag", "pending");
      float.classList.add("drag-float");
      float.style.width = `${rect.width}px`;
      document.body.append(float);
      drag.float = float;
      document.body.classList.add("dragging");
    }
    event.preventDefault();
    if (drag.float) {
      drag.float.style.transform = `translate(${event.clientX - drag.offsetX}px, ${event.clientY - drag.offsetY}px) rotate(2deg)`;
    }
    const over = this.view.placeAt(event.clientX, event.clientY, drag.task);
    if (over) drag.over = over;
    if (drag.over) this.callbacks.hover(drag.task, drag.over, this.view.pointerAt(event.clientX, event.clientY));
  }

  /** @param {PointerEvent} event @param {boolean} cancelled */
  onPointerUp(event, cancelled) {
    const drag = this.pointer;
    if (!drag || event.pointerId !== drag.pointerId) return;
    this.release();
    if (!drag.started) return;
    if (cancelled || !drag.over) this.callbacks.cancel(drag.task);
    else this.callbacks.drop(drag.task, drag.over);
  }

  release() {
    const drag = this.pointer;
    this.pointer = null;
    drag?.float?.remove();
    document.body.classList.remove("dragging");
    window.removeEventListener("pointermove", this.onMove);
    window.removeEventListener("pointerup", this.onUp);
    window.removeEventListener("pointercancel", this.onCancelPointer);
  }

  /** @param {KeyboardEvent} event */
  onKeyDown(event) {
    const key = event.key;
    if (!this.keyboard) {
      const card = /** @type {HTMLElement} */ (event.target);
      if (!card.classList?.contains("task") || !this.view.board.contains(card)) return;
      const task = Number(card.dataset.taskId);
      if ((key === " " || key === "Enter") && !this.pointer) {
        const from = this.callbacks.placeOf(task);
        if (!from || !this.callbacks.start(task, from)) return;
        event.preventDefault();
        this.keyboard = { task, over: from };
        this.view.announce(`Picked up ${card.getAttribute("aria-label")}. Arrow keys move it, Space drops it, Escape cancels.`);
      }
      return;
    }
    const task = this.keyboard.task;
    const over = { ...this.keyboard.over };
    if (key === "ArrowLeft" || key === "ArrowRight") {
      const next = COLUMNS.indexOf(over.column) + (key === "ArrowLeft" ? -1 : 1);
      if (next < 0 || next >= COLUMNS.length) return;
      over.column = COLUMNS[next];
      over.index = Math.min(over.index, this.callbacks.columnLength(over.column, task));
    } else if (key === "ArrowUp") {
      over.index = Math.max(0, over.index - 1);
    } else if (key === "ArrowDown") {
      over.index = Math.min(this.callbacks.columnLength(over.column, task), over.index + 1);
    } else if (key === " " || key === "Enter") {
      event.preventDefault();
      const to = this.keyboard.over;
      this.keyboard = null;
      this.callbacks.drop(task, to);
      this.view.announce(`Dropped in ${to.column.replace("_", " ")}, position ${to.index + 1}.`);
      this.view.focusCard(task);
      return;
    } else if (key === "Escape") {
      event.preventDefault();
      this.keyboard = null;
      this.callbacks.cancel(task);
      this.view.announce("Move cancelled.");
      this.view.focusCard(task);
      return;
    } else {
      return;
    }
    event.preventDefault();
    if (over.column !== this.keyboard.over.column || over.index !== this.keyboard.over.index) {
      this.keyboard.over = over;
      this.callbacks.hover(task, over);
      this.view.announce(`${over.column.replace("_", " ")}, position ${over.index + 1}.`);
    }
  }
}
