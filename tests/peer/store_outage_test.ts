import assert from "node:assert/strict";
import { createTestPeer, item, rid } from "./helpers.ts";
import { ManualClock } from "../../shared/clock.ts";
import { MemoryAdvertisementStore } from "../../peer/store/memory_store.ts";
import { advertisementKey } from "../../peer/store/types.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";

const BULK = "/api/registers/bulk-advertise";

function storedIds(store: MemoryAdvertisementStore): string[] {
  return [...store.entries.values()].map((e) => e.advertisement.registerId).sort();
}

Deno.test("while the store is down, requests succeed from memory with exact counts and readyz reports it degraded", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1), item(2), item(3)] });
  peer.store.setReachable(false);
  const res = await peer.call("POST", BULK, {
    advertisements: [item(1), item(2, { latestVersion: 5 }), item(4)],
    fullSync: true,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    processed: 3,
    added: 1,
    updated: 1,
    removed: 1,
    unchanged: 1,
    persisted: false,
  });
  const ids = (await peer.call("GET", "/api/registers/available")).body.map((
    r: { registerId: string },
  ) => r.registerId);
  assert.deepEqual(ids, [rid(1), rid(2), rid(4)]);
  const ready = await peer.call("GET", "/readyz");
  assert.equal(ready.status, 200);
  assert.equal(ready.body.dependencies.store.state, "degraded");
  assert.match(ready.body.dependencies.store.lastError, /unreachable/);
  const state = (await peer.call("GET", "/api/registers/sync-state")).body;
  assert.equal(state.lastFullSync.outcome, "memory-only");
  assert.deepEqual(state.lastFullSync.counts, { processed: 3, added: 1, updated: 1, removed: 1 });
});

Deno.test("when the store returns, everything added, changed or removed meanwhile is written", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1), item(2), item(3)] });
  peer.store.setReachable(false);
  await peer.call("POST", BULK, {
    advertisements: [item(2, { latestVersion: 5 }), item(4)],
    fullSync: true,
  });
  await peer.call("POST", `/api/registers/${rid(5)}/advertise`, { isPublic: false });
  await peer.call("DELETE", `/api/registers/${rid(4)}/advertise`);
  peer.store.setReachable(true); // tells the peer it is back
  await peer.registry.recoverStore();
  assert.deepEqual(storedIds(peer.store), [rid(2), rid(5)]);
  assert.equal(
    peer.store.entries.get(advertisementKey({ registerId: rid(2) }))!.advertisement.latestVersion,
    5,
  );
  const ready = await peer.call("GET", "/readyz");
  assert.equal(ready.body.dependencies.store.state, "ok");
  const state = (await peer.call("GET", "/api/registers/sync-state")).body;
  assert.equal(
    (await peer.store.loadFullSync())?.counts.removed,
    2,
    "the full sync record was saved",
  );
  assert.equal(state.store.state, "ok");
});

Deno.test("lease renewals made while the store was down reach it when it returns", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1)] });
  peer.store.setReachable(false);
  peer.clock.advance(100_000);
  await peer.call("POST", BULK, { advertisements: [item(1)] });
  const writes = peer.store.valueWrites;
  peer.store.setReachable(true);
  await peer.registry.recoverStore();
  const entry = peer.store.entries.get(advertisementKey({ registerId: rid(1) }))!;
  assert.equal(entry.expiresAt, peer.clock.now() + 375_000);
  assert.equal(peer.store.valueWrites, writes, "an unchanged value is not rewritten");
});

Deno.test("a store unreachable at start is merged into memory once it returns, memory winning", async () => {
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  {
    await using before = await createTestPeer({ store, clock });
    await before.call("POST", BULK, { advertisements: [item(1), item(2), item(3)] });
  }
  await store.write({
    put: [{
      advertisement: {
        registerId: rid(7),
        peerId: "peer-b",
        syncState: "Active",
        latestVersion: 1,
        latestDocketVersion: 0,
        isPublic: true,
        lastUpdated: new Date(0).toISOString(),
      },
      expiresAt: clock.now() + 100_000,
      valueChanged: true,
    }],
    remove: [],
  });
  store.setReachable(false);
  await using peer = await createTestPeer({ store, clock });
  const ready = await peer.call("GET", "/readyz");
  assert.equal(ready.status, 200, "a peer whose store is down still serves");
  assert.equal(ready.body.dependencies.store.state, "degraded");
  assert.equal(ready.body.dependencies.store.loaded, false);
  await peer.call("POST", BULK, { advertisements: [item(2, { isPublic: false })] });
  await peer.call("DELETE", `/api/registers/${rid(3)}/advertise`);
  store.setReachable(true);
  await peer.registry.recoverStore();
  const ids = (await peer.call("GET", "/api/registers/available")).body.map((
    r: { registerId: string },
  ) => r.registerId);
  assert.deepEqual(
    ids,
    [rid(1), rid(7)],
    "1 and the remote 7 adopted; 2 made private and 3 withdrawn meanwhile",
  );
  assert.deepEqual(storedIds(store), [rid(1), rid(2), rid(7)]);
  assert.equal(
    store.entries.get(advertisementKey({ registerId: rid(2) }))!.advertisement.isPublic,
    false,
  );
});

Deno.test("a full sync made while the store was never loaded replaces the stored local set", async () => {
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  {
    await using before = await createTestPeer({ store, clock });
    await before.call("POST", BULK, { advertisements: [item(1), item(2)] });
  }
  store.setReachable(false);
  await using peer = await createTestPeer({ store, clock });
  const res = await peer.call("POST", BULK, { advertisements: [item(3)], fullSync: true });
  assert.equal(res.body.persisted, false);
  store.setReachable(true);
  await peer.registry.recoverStore();
  assert.deepEqual(storedIds(store), [rid(3)]);
  const ids = (await peer.call("GET", "/api/registers/available")).body.map((
    r: { registerId: string },
  ) => r.registerId);
  assert.deepEqual(ids, [rid(3)]);
});

Deno.test("recovery is retried on a backoff timer when the store never says it is back", async () => {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  await using peer = await createTestPeer({ clock, scheduler });
  peer.store.setReachable(false);
  await peer.call("POST", BULK, { advertisements: [item(1)] });
  assert.equal(peer.store.entries.size, 0);
  // Reachable again, but without telling the peer (no reconnect event).
  peer.store.setReachable(true, { announce: false });
  assert.equal(peer.store.entries.size, 0);
  (await scheduler.nextSleep()).release(); // the first backoff step has passed
  await peer.registry.storeSettled(); // waits for the recovery the timer started
  assert.deepEqual(storedIds(peer.store), [rid(1)]);
});
