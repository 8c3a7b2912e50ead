/**
 * A store that comes back without its data (Redis stopped with
 * `SHUTDOWN NOSAVE` and started again empty) gets memory's state back whole:
 * every advertisement and the last full sync's record.
 */
import assert from "node:assert/strict";
import { FULL_SYNC_KEY } from "../../peer/store/types.ts";
import { startRedis } from "../fixtures/redis_server.ts";
import { startService } from "../fixtures/service_process.ts";
import { tempDir, until } from "../fixtures/wait.ts";
import { createTestPeer, item, rid } from "./helpers.ts";

const BULK = "/api/registers/bulk-advertise";

Deno.test("a store back without its data, after a write failed meanwhile, gets the full-sync record back with the advertisements", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1), item(2)], fullSync: true });
  const record = await peer.store.loadFullSync();
  assert.ok(record);
  peer.store.setReachable(false);
  const res = await peer.call("POST", `/api/registers/${rid(3)}/advertise`, { isPublic: true });
  assert.equal(res.body.persisted, false);
  peer.store.clear();
  peer.store.setReachable(true);
  await peer.registry.storeSettled();
  assert.equal(peer.store.entries.size, 3, "the advertisements are written again");
  assert.deepEqual(await peer.store.loadFullSync(), record, "and the full-sync record");
});

Deno.test("a store back without its data, with nothing written meanwhile, gets every advertisement and the full-sync record back", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1), item(2)], fullSync: true });
  const record = await peer.store.loadFullSync();
  peer.store.setReachable(false);
  peer.store.clear();
  peer.store.setReachable(true);
  await peer.registry.storeSettled();
  assert.equal(peer.store.entries.size, 2);
  assert.deepEqual(await peer.store.loadFullSync(), record);
});

Deno.test("a peer whose Redis restarts empty writes its advertisements and full-sync record back, and serves them after its own restart", async () => {
  await using redis = await startRedis();
  await using data = await tempDir("peer-data-");
  const env = { REDIS_URL: redis.url, DATA_DIR: data.path };
  const record = await (async () => {
    await using peer = await startService("peer/main.ts", { env });
    const res = await fetch(`${peer.url}${BULK}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advertisements: [item(1), item(2), item(3)], fullSync: true }),
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await redis.restart(); // SHUTDOWN NOSAVE, then started without data
    assert.equal(await redis.command("DBSIZE"), 0);
    await until(
      "the advertisements and the full-sync record are back in Redis",
      async () =>
        await redis.command("DBSIZE") === 4 && await redis.command("EXISTS", FULL_SYNC_KEY) === 1,
    );
    const state = await (await fetch(`${peer.url}/api/registers/sync-state`)).json();
    assert.deepEqual(
      JSON.parse(String(await redis.command("GET", FULL_SYNC_KEY))),
      state.lastFullSync,
    );
    await peer.stop("SIGKILL");
    return state.lastFullSync;
  })();
  await using restarted = await startService("peer/main.ts", { env });
  const state = await (await fetch(`${restarted.url}/api/registers/sync-state`)).json();
  assert.equal(state.localCount, 3);
  assert.deepEqual(state.lastFullSync, record);
});
