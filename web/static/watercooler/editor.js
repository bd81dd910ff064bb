// @ts-check
/**
 * The task dialog: edit a task's name, description, assignee and due date. It gathers the fields
 * the person changed (and only those) with the version the dialog was opened with; saving, and
 * what a conflict means, is the live board's job.
 */

import { h } from "./view.js";

/** @typedef {import("./protocol.js").Task} Task */
/** @typedef {import("./api.js").User} User */
/** @typedef {{name: string, description: string, assignee: number | null, due: string | null}} EditableFields */

/**
 * The fields of `now` that differ from `shown` (what the dialog showed when it opened).
 * @param {EditableFields} shown @param {EditableFields} now
 * @returns {Partial<EditableFields>}
 */
export function changedFields(shown, now) {
  /** @type {Partial<EditableFields>} */
  const changed = {};
  for (const key of /** @type {(keyof EditableFields)[]} */ (["name", "description", "assignee", "due"])) {
    if (now[key] !== shown[key]) Object.assign(changed, { [key]: now[key] });
  }
  return changed;
}

export class TaskEditor {
  /**
   * @param {Document} doc
   * @param {(id: number, fields: Partial<Task>, version: number) => Promise<string | null>} save
   *   returns an error or null
   * @param {() => Promise<User[]>} loadUsers
   */
  constructor(doc, save, loadUsers) {
    this.save = save;
    this.loadUsers = loadUsers;
    /** @type {User[] | null} */
    this.users = null;
    /** @type {number | null} */
    this.taskId = null;
    /** The version the dialog was opened with. */
    this.version = 0;
    /** @type {EditableFields | null} what the dialog showed when it opened */
    this.shown = null;
    this.name = h("input", { name: "name", required: "", maxlength: "100" });
    this.description = h("textarea", { name: "description", rows: "4" });
    this.assignee = h("select", { name: "assignee" });
    this.due = h("input", { name: "due", type: "date" });
    this.error = h("p", { class: "error", role: "alert" });
    const cancel = h("button", { type: "button", class: "secondary", text: "Cancel" });
    this.form = h("form", { method: "dialog" }, [
      h("h2", { text: "Edit task" }),
      h("label", {}, ["Name", this.name]),
      h("label", {}, ["Description", this.description]),
      h("div", { class: "row" }, [h("label", {}, ["Assignee", this.assignee]), h("label", {}, ["Due", this.due])]),
      this.error,
      h("div", { class: "actions" }, [cancel, h("button", { type: "submit", text: "Save" })]),
    ]);
    this.dialog = h("dialog", { id: "task-dialog", class: "task-dialog" }, [this.form]);
    doc.body.append(this.dialog);
    cancel.addEventListener("click", () => this.dialog.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  /** @param {Task} task */
  async open(task) {
    this.taskId = task.id;
    this.name.value = task.name;
    this.description.value = task.description ?? "";
    this.due.value = task.due ?? "";
    this.error.textContent = "";
    if (!this.users) {
      try {
        this.users = await this.loadUsers();
      } catch {
        this.users = [];
      }
    }
    const options = [h("option", { value: "", text: "Unassigned" })];
    for (const user of this.users) {
      options.push(h("option", { value: String(user.id), text: user.full_name || user.username }));
    }
    this.assignee.replaceChildren(...options);
    this.assignee.value = task.assignee == null ? "" : String(task.assignee);
    this.version = task.version;
    this.shown = this.values();
    this.dialog.showModal();
    this.name.focus();
  }

  /** What the dialog's inputs say now. @returns {EditableFields} */
  values() {
    return {
      name: this.name.value.trim(),
      description: this.description.value,
      assignee: this.assignee.value ? Number(this.assignee.value) : null,
      due: this.due.value || null,
    };
  }

  async submit() {
    if (this.taskId === null || this.shown === null) return;
    const error = await this.save(this.taskId, changedFields(this.shown, this.values()), this.version);
    if (error) this.error.textContent = error;
    else this.dialog.close();
  }
}
