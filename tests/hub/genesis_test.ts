/**
 * Genesis: the seeded blueprint is created once, however often or however
 * many hubs start.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import {
  ensureGenesis,
  GENESIS_BLUEPRINT_ID,
  openSqliteSystemRegisterStore,
} from "../../hub/system_register/mod.ts";

Deno.test("genesis seeds register-creation-v1 once and skips it when present", async () => {
  const store = openSqliteSystemRegisterStore(":memory:");
  try {
    const clock = new ManualClock();
    const first = await ensureGenesis(store, { clock, hubId: "n0" });
    assert.equal(first.created, true);
    assert.equal(first.entry.version, 1);
    assert.equal(first.entry.blueprintId, GENESIS_BLUEPRINT_ID);
    assert.equal(first.entry.publishedBy, "hub:n0");
    const again = await ensureGenesis(store, { clock, hubId: "n1" });
    assert.equal(again.created, false);
    assert.equal((await store.head()).entryCount, 1);
    const document = JSON.parse(new TextDecoder().decode(first.entry.document));
    assert.equal(document.id, GENESIS_BLUEPRINT_ID);
  } finally {
    await store.close();
  }
});
