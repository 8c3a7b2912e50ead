import assert from "node:assert/strict";
import { createTestPeer, item, rid } from "./helpers.ts";
import { ManualClock } from "../../shared/clock.ts";
import { MemoryAdvertisementStore } from "../../peer/store/memory_store.ts";

Deno.test("after a restart every local and remote advertisement is served again", async () => {
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  {
    await using peer = await createTestPeer({ store, clock });
    await peer.call("POST", "/api/registers/bulk-advertise", {
      advertisements: [item(1), item(2, { latestVersion: 3 }), item(3, { isPublic: false })],
      fullSync: true,
    });
  }
  await store.write({
    put: ["peer-b", "peer-c"].map((peerId) => ({
      advertisement: {
        registerId: rid(2),
        peerId,
        syncState: peerId === "peer-b" ? "FullyReplicated" as const : "Syncing" as const,
        latestVersion: peerId === "peer-b" ? 8 : 2,
        latestDocketVersion: 1,
        isPublic: true,
        lastUpdated: new Date(0).toISOString(),
      },
      expiresAt: clock.now() + 60_000,
      valueChanged: true,
    })),
    remove: [],
  });
  await using restarted = await createTestPeer({ store, clock, start: false });
  const before = await restarted.call("GET", "/readyz");
  assert.equal(before.status, 503, "not ready before the store is loaded");
  await restarted.registry.start();
  const after = await restarted.call("GET", "/readyz");
  assert.equal(after.status, 200);
  assert.equal(after.body.dependencies.store.state, "ok");
  const available = (await restarted.call("GET", "/api/registers/available")).body;
  assert.deepEqual(available, [
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
      peerCount: 2,
      latestVersion: 8,
      latestDocketVersion: 1,
      isPublic: true,
      fullReplicaPeerCount: 1,
      isLocal: true,
    },
  ]);
  const state = (await restarted.call("GET", "/api/registers/sync-state")).body;
  assert.equal(state.localCount, 3);
  assert.equal(state.remoteCount, 2);
});

Deno.test("requests that arrive while the store is loading wait for it instead of answering from empty memory", async () => {
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  {
    await using peer = await createTestPeer({ store, clock });
    await peer.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(1)] });
  }
  await using restarted = await createTestPeer({ store, clock, start: false });
  void restarted.registry.start();
  const res = await restarted.call("GET", "/api/registers/available");
  assert.equal(res.body.length, 1);
});
