// @ts-check
/**
 * The board page's one entry module: reads the page's configuration and wires the pieces together.
 * Nothing else happens here.
 */

import { BoardApi } from "./api.js";
import { DragController } from "./dragdrop.js";
import { TaskEditor } from "./editor.js";
import { LiveBoard } from "./live.js";
import { closeWhenLeft } from "./popover.js";
import { BoardView } from "./view.js";

const configElement = document.getElementById("board-config");
if (configElement?.textContent) {
  /** @type {import("./live.js").BoardConfig} */
  const config = JSON.parse(configElement.textContent);
  const api = new BoardApi(config.apiRoot, config.csrfToken);
  const view = new BoardView(document, { sprintId: config.sprintId, userId: config.user.id });
  const live = new LiveBoard(config, api, view);
  const editor = new TaskEditor(document, (id, fields, version) => live.editTask(id, fields, version), () => api.users());

  view.onAddTask = (_column, name) => void live.addTask(name);
  view.onEditTask = (id) => {
    const task = live.state.tasks.get(id);
    if (task) void editor.open(task);
  };
  new DragController(view, {
    placeOf: (task) => live.state.placeOf(task),
    columnLength: (column, without) => live.state.columns()[column].filter((id) => id !== without).length,
    start: (task, from) => live.startDrag(task, from),
    hover: (task, over, pointer) => live.hoverDrag(task, over, pointer),
    drop: (task, to) => void live.dropDrag(task, to),
    cancel: (task) => live.cancelDrag(task),
  });
  const livePanel = document.querySelector("details.live");
  if (livePanel instanceof HTMLDetailsElement) closeWhenLeft(livePanel, document);
  window.addEventListener("online", () => live.signaling.retryNow());
  window.addEventListener("pagehide", () => live.stop());
  Object.assign(window, { watercooler: live });
  void live.start();
}
