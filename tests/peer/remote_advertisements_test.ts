/**
 * Remote advertisements: each peer's set, as received in a gossip exchange,
 * replaces its previous set; they are persisted under their remote keys,
 * merged into `available`, kept until their lease ends, and served after a
 * restart at once.
 */
import assert from "node:assert/strict";
import type { RemoteItem } from "../../peer/advertisements/registry.ts";
import { MemoryAdvertisementStore } from "../../peer/store/memory_store.ts";
import { ManualClock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { createTestPeer, item, rid } from "./helpers.ts";

function remote(n: number, fields: Partial<RemoteItem> = {}): RemoteItem {
  return {
    registerId: rid(n),
    syncState: "Active",
    latestVersion: 0,
    latestDocketVersion: 0,
    ...fields,
  };
}

function remoteKeys(store: MemoryAdvertisementStore): string[] {
  return [...store.entries.keys()].filter((key) => key.includes(":remote:")).sort();
}

Deno.test("a peer's set is stored under its remote keys and merged into available", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", "/api/registers/bulk-advertise", { advertisements: [item(1)] });
  const result = await peer.registry.replaceRemote("peer-b", [
    remote(1, { latestVersion: 9 }),
    remote(2, { syncState: "FullyReplicated", latestVersion: 4 }),
  ]);
  assert.deepEqual(result, {
    processed: 2,
    added: 2,
    updated: 0,
    removed: 0,
    unchanged: 0,
    persisted: true,
  });
  await peer.registry.replaceRemote("peer-c", [remote(2, { latestVersion: 6 })]);
  assert.deepEqual(remoteKeys(peer.store), [
    `peer:advert:remote:peer-b:${rid(1)}`,
    `peer:advert:remote:peer-b:${rid(2)}`,
    `peer:advert:remote:peer-c:${rid(2)}`,
  ]);
  assert.deepEqual((await peer.call("GET", "/api/registers/available")).body, [
    {
      registerId: rid(1),
      peerCount: 1,
      latestVersion: 9,
      latestDocketVersion: 0,
      isPublic: true,
      fullReplicaPeerCount: 0,
      isLocal: true,
    },
    {
      registerId: rid(2),
      peerCount: 2,
      latestVersion: 6,
      latestDocketVersion: 0,
      isPublic: true,
      fullReplicaPeerCount: 1,
      isLocal: false,
    },
  ]);
});

Deno.test("a peer's new set replaces its previous one: what it stopped advertising is removed", async () => {
  await using peer = await createTestPeer();
  await peer.registry.replaceRemote("peer-b", [remote(1), remote(2), remote(3)]);
  await peer.registry.replaceRemote("peer-c", [remote(2)]);
  const result = await peer.registry.replaceRemote("peer-b", [
    remote(2),
    remote(3, { latestVersion: 5 }),
  ]);
  assert.deepEqual(
    [result.added, result.updated, result.removed, result.unchanged],
    [0, 1, 1, 1],
  );
  assert.deepEqual(remoteKeys(peer.store), [
    `peer:advert:remote:peer-b:${rid(2)}`,
    `peer:advert:remote:peer-b:${rid(3)}`,
    `peer:advert:remote:peer-c:${rid(2)}`,
  ]);
  const empty = await peer.registry.replaceRemote("peer-b", []);
  assert.equal(empty.removed, 2);
  assert.deepEqual(remoteKeys(peer.store), [`peer:advert:remote:peer-c:${rid(2)}`]);
  assert.deepEqual(peer.registry.available().map((r) => r.registerId), [rid(2)]);
});

Deno.test("an unchanged set rewrites no value and renews the leases", async () => {
  await using peer = await createTestPeer();
  await peer.registry.replaceRemote("peer-b", [remote(1), remote(2)]);
  const writes = peer.store.valueWrites;
  for (let round = 0; round < 3; round++) {
    peer.clock.advance(300_000);
    const result = await peer.registry.replaceRemote("peer-b", [remote(1), remote(2)]);
    assert.equal(result.unchanged, 2);
  }
  await peer.registry.storeSettled();
  assert.equal(peer.store.valueWrites, writes);
  assert.equal(peer.registry.available().length, 2);
});

Deno.test("a peer that stops sending keeps its advertisements until their lease ends", async () => {
  await using peer = await createTestPeer({ ttlSeconds: 300, graceSeconds: 75 });
  await peer.registry.replaceRemote("peer-b", [remote(1)]);
  peer.clock.advance(374_999);
  assert.equal(peer.registry.available().length, 1);
  peer.clock.advance(1);
  assert.deepEqual(peer.registry.available(), []);
  assert.equal(peer.registry.syncState().remoteCount, 0);
});

Deno.test("remote advertisements are served at once after a restart", async () => {
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  {
    await using peer = await createTestPeer({ store, clock });
    await peer.registry.replaceRemote("peer-b", [remote(1), remote(2)]);
  }
  await using restarted = await createTestPeer({ store, clock });
  assert.deepEqual(restarted.registry.available().map((r) => r.registerId), [rid(1), rid(2)]);
  assert.equal(restarted.registry.available()[0]!.peerCount, 1);
});

Deno.test("a set that arrives before the store is loaded makes the peer's stored set stale", async () => {
  const clock = new ManualClock();
  const store = new MemoryAdvertisementStore({ clock });
  {
    await using peer = await createTestPeer({ store, clock });
    await peer.registry.replaceRemote("peer-b", [remote(1), remote(2)]);
  }
  store.setReachable(false);
  await using restarted = await createTestPeer({ store, clock });
  await restarted.registry.replaceRemote("peer-b", [remote(3)]);
  store.setReachable(true);
  await restarted.registry.recoverStore();
  assert.deepEqual(restarted.registry.available().map((r) => r.registerId), [rid(3)]);
  assert.deepEqual(remoteKeys(store), [`peer:advert:remote:peer-b:${rid(3)}`]);
});

Deno.test("a set listing a register twice is refused and changes nothing", async () => {
  await using peer = await createTestPeer();
  await peer.registry.replaceRemote("peer-b", [remote(1)]);
  await assert.rejects(
    peer.registry.replaceRemote("peer-b", [remote(2), remote(2)]),
    (error: unknown) => error instanceof AppError && error.code === "invalid_argument",
  );
  assert.deepEqual(remoteKeys(peer.store), [`peer:advert:remote:peer-b:${rid(1)}`]);
});

Deno.test("only public local advertisements are offered to other peers", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", "/api/registers/bulk-advertise", {
    advertisements: [item(2, { latestVersion: 3 }), item(1, { isPublic: false })],
  });
  await peer.registry.replaceRemote("peer-b", [remote(4)]);
  assert.deepEqual(peer.registry.publicLocal(), [
    { registerId: rid(2), syncState: "Active", latestVersion: 3, latestDocketVersion: 0 },
  ]);
});
