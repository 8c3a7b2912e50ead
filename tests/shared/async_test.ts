/** Promise helpers: a wait bounded in time, and its timer never left behind. */
import assert from "node:assert/strict";
import { settlesWithin, within } from "../../shared/async.ts";

Deno.test("within gives the promise's outcome when it settles in time, and clears its timer", async () => {
  assert.equal(await within(Promise.resolve(7), { ms: 10_000, what: "seven" }), 7);
  await assert.rejects(
    within(Promise.reject(new Error("no")), { ms: 10_000, what: "x" }),
    /^Error: no$/,
  );
});

Deno.test("within rejects saying what it waited for when the promise is too late", async () => {
  const never = new Promise<never>(() => {});
  await assert.rejects(
    within(never, { ms: 1, what: "the first frame" }),
    /^Error: timed out after 1 ms: the first frame$/,
  );
});

Deno.test("settlesWithin tells whether a promise settled in time, either way", async () => {
  assert.equal(await settlesWithin(Promise.reject(new Error("no")), 10_000), true);
  assert.equal(await settlesWithin(new Promise(() => {}), 1), false);
});
