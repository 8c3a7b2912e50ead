import assert from "node:assert/strict";
import { createTestPeer, item, rid } from "./helpers.ts";
import { advertisementKey } from "../../peer/store/types.ts";

const BULK = "/api/registers/bulk-advertise";

Deno.test("bulk advertise of new registers counts each as added and lists the public ones", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("POST", BULK, {
    advertisements: [
      item(1),
      item(2, { latestVersion: 7, latestDocketVersion: 3 }),
      item(3, { isPublic: false }),
    ],
  });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    processed: 3,
    added: 3,
    updated: 0,
    removed: 0,
    unchanged: 0,
    persisted: true,
  });
  const available = await peer.call("GET", "/api/registers/available");
  assert.deepEqual(available.body, [
    {
      registerId: rid(1),
      peerCount: 0,
      latestVersion: 0,
      latestDocketVersion: 0,
      isPublic: true,
      fullReplicaPeerCount: 0,
      isLocal: true,
    },
    {
      registerId: rid(2),
      peerCount: 0,
      latestVersion: 7,
      latestDocketVersion: 3,
      isPublic: true,
      fullReplicaPeerCount: 0,
      isLocal: true,
    },
  ]);
  assert.equal(peer.store.entries.size, 3, "the private advertisement is stored too");
});

Deno.test("re-sending unchanged advertisements writes no value but renews their lease", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1), item(2)] });
  const writes = peer.store.valueWrites;
  const key = advertisementKey({ registerId: rid(1) });
  const expiryBefore = peer.store.entries.get(key)!.expiresAt;
  peer.clock.advance(60_000);
  const res = await peer.call("POST", BULK, { advertisements: [item(1), item(2)] });
  assert.deepEqual(res.body, {
    processed: 2,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: 2,
    persisted: true,
  });
  assert.equal(peer.store.valueWrites, writes, "no value was written");
  assert.equal(
    peer.store.entries.get(key)!.expiresAt,
    expiryBefore + 60_000,
    "the TTL was refreshed",
  );
});

Deno.test("changed values count as updated and keep nothing stale", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, {
    advertisements: [item(1, { latestVersion: 1 }), item(2), item(3)],
  });
  const res = await peer.call("POST", BULK, {
    advertisements: [item(1, { latestVersion: 2 }), item(2, { isPublic: false }), item(3)],
  });
  assert.deepEqual(res.body, {
    processed: 3,
    added: 0,
    updated: 2,
    removed: 0,
    unchanged: 1,
    persisted: true,
  });
  const available = await peer.call("GET", "/api/registers/available");
  assert.deepEqual(available.body.map((r: { registerId: string }) => r.registerId), [
    rid(1),
    rid(3),
  ]);
  assert.equal(available.body[0].latestVersion, 2);
  const stored = peer.store.entries.get(advertisementKey({ registerId: rid(2) }))!;
  assert.equal(stored.advertisement.isPublic, false, "the store has the new value");
});

Deno.test("bulk advertise with fullSync removes stale local advertisements and leaves remote ones", async () => {
  await using peer = await createTestPeer({ start: false });
  const now = peer.clock.now();
  await peer.store.write({
    put: [{
      advertisement: {
        registerId: rid(9),
        peerId: "peer-b",
        syncState: "FullyReplicated",
        latestVersion: 4,
        latestDocketVersion: 1,
        isPublic: true,
        lastUpdated: new Date(now).toISOString(),
      },
      expiresAt: now + 300_000,
      valueChanged: true,
    }],
    remove: [],
  });
  await peer.registry.start();
  await peer.call("POST", BULK, { advertisements: [item(1), item(2), item(3)] });
  const res = await peer.call("POST", BULK, { advertisements: [item(2)], fullSync: true });
  assert.deepEqual(res.body, {
    processed: 1,
    added: 0,
    updated: 0,
    removed: 2,
    unchanged: 1,
    persisted: true,
  });
  const ids = (await peer.call("GET", "/api/registers/available")).body.map((
    r: { registerId: string },
  ) => r.registerId);
  assert.deepEqual(ids, [rid(2), rid(9)]);
  assert.ok(!peer.store.entries.has(advertisementKey({ registerId: rid(1) })));
  assert.ok(peer.store.entries.has(advertisementKey({ registerId: rid(9), peerId: "peer-b" })));
});

Deno.test("an empty list with fullSync means no public registers", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1), item(2, { isPublic: false })] });
  const res = await peer.call("POST", BULK, { advertisements: [], fullSync: true });
  assert.deepEqual(res.body, {
    processed: 0,
    added: 0,
    updated: 0,
    removed: 2,
    unchanged: 0,
    persisted: true,
  });
  assert.deepEqual((await peer.call("GET", "/api/registers/available")).body, []);
  assert.equal(peer.store.entries.size, 0);
});

Deno.test("an empty list without fullSync changes nothing", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: [item(1)] });
  const res = await peer.call("POST", BULK, { advertisements: [] });
  assert.deepEqual(res.body, {
    processed: 0,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: 0,
    persisted: true,
  });
  assert.equal((await peer.call("GET", "/api/registers/available")).body.length, 1);
});

Deno.test("upper-case register ids are accepted and kept in lower case", async () => {
  await using peer = await createTestPeer();
  const upper = "ABCDEF0123456789ABCDEF0123456789";
  await peer.call("POST", BULK, { advertisements: [{ registerId: upper, isPublic: true }] });
  const res = await peer.call("POST", BULK, {
    advertisements: [{ registerId: upper.toLowerCase(), isPublic: true }],
  });
  assert.equal(res.body.unchanged, 1);
  assert.equal(
    (await peer.call("GET", "/api/registers/available")).body[0].registerId,
    upper.toLowerCase(),
  );
});

Deno.test("the last full sync's time, counts and outcome are reported and survive a restart", async () => {
  const { MemoryAdvertisementStore } = await import("../../peer/store/memory_store.ts");
  const { ManualClock } = await import("../../shared/clock.ts");
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  {
    await using peer = await createTestPeer({ store, clock });
    const before = await peer.call("GET", "/api/registers/sync-state");
    assert.equal(before.body.lastFullSync, null);
    await peer.call("POST", BULK, { advertisements: [item(1), item(2)], fullSync: true });
  }
  await using restarted = await createTestPeer({ store, clock });
  const state = (await restarted.call("GET", "/api/registers/sync-state")).body;
  assert.deepEqual(state.lastFullSync, {
    at: new Date(clock.now()).toISOString(),
    counts: { processed: 2, added: 2, updated: 0, removed: 0 },
    outcome: "persisted",
  });
  assert.equal(state.localCount, 2);
  assert.equal(state.publicLocalCount, 2);
  assert.equal(state.store.state, "ok");
  assert.equal(state.store.pendingWrites, 0);
});
