// Tests for the task dialog's rule in web/static/watercooler/editor.js: only changed fields are saved.
import assert from "node:assert/strict";
import { test } from "node:test";

import { changedFields } from "../../web/static/watercooler/editor.js";

const shown = { name: "CSV export", description: "As the board showed it", assignee: 2, due: null };

test("only the fields the person changed are saved", () => {
  assert.deepEqual(changedFields(shown, { ...shown, due: "2026-06-01" }), { due: "2026-06-01" });
  assert.deepEqual(changedFields(shown, { ...shown, assignee: null, name: "CSV" }), { assignee: null, name: "CSV" });
});

test("nothing changed, nothing saved", () => {
  assert.deepEqual(changedFields(shown, { ...shown }), {});
});
