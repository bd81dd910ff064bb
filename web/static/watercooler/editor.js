// @ts-check
/**
 * The task dialog: edit a task's name, description, assignee and due date. It only gathers the
 * fields; saving (with the version, and what a conflict means) is the live board's job.
 */

import { h } from "./view.js";

/** @typedef {import("./protocol.js").Task} Task */
/** @typedef {import("./api.js").User} User */

export class TaskEditor {
  /**
   * @param {Document} doc
   * @param {(id: number, fields: Partial<Task>) => Promise<string | null>} save returns an error or null
   * @param {() => Promise<User[]>} loadUsers
   */
  constructor(doc, save, loadUsers) {
    this.save = save;
    this.loadUsers = loadUsers;
    /** @type {User[] | null} */
    this.users = null;
    /** @type {number | null} */
    this.taskId = null;
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
    this.dialog.showModal();
    this.name.focus();
  }

  async submit() {
    if (this.taskId === null) return;
    const fields = {
      name: this.name.value.trim(),
      description: this.description.value,
      assignee: this.assignee.value ? Number(this.assignee.value) : null,
      due: this.due.value || null,
    };
    const error = await this.save(this.taskId, fields);
    if (error) this.error.textContent = error;
    else this.dialog.close();
  }
}
