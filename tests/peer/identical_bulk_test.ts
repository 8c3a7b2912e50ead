import assert from "node:assert/strict";
import { mock } from "node:test";
import { createTestPeer, item, rid } from "./helpers.ts";
import type { BulkOptions, BulkRequest } from "../../peer/advertisements/mod.ts";
import { advertisementKey } from "../../peer/store/types.ts";

const BULK = "/api/registers/bulk-advertise";
const body = JSON.stringify({ advertisements: [item(1), item(2), item(3)], fullSync: true });

Deno.test("a bulk request identical to the last one only renews leases, without being parsed again", async () => {
  await using peer = await createTestPeer();
  assert.equal((await peer.call("POST", BULK, body)).body.added, 3);
  // Counts the requests read in full: the handler hands bulkAdvertise a function that parses.
  const full = mock.fn((read: () => BulkRequest) => read());
  const bulkAdvertise = peer.registry.bulkAdvertise.bind(peer.registry);
  mock.method(
    peer.registry,
    "bulkAdvertise",
    (request: BulkRequest | (() => BulkRequest), options?: BulkOptions) =>
      bulkAdvertise(typeof request === "function" ? () => full(request) : request, options),
  );
  peer.clock.advance(60_000);
  const writes = peer.store.valueWrites;
  const res = await peer.call("POST", BULK, body);
  assert.deepEqual(res.body, {
    processed: 3,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: 3,
    persisted: true,
  });
  assert.equal(full.mock.callCount(), 0, "answered by the renewal path");
  await peer.registry.storeSettled();
  assert.equal(peer.store.valueWrites, writes);
  const entry = peer.store.entries.get(advertisementKey({ registerId: rid(2) }))!;
  assert.equal(entry.expiresAt, peer.clock.now() + 375_000, "the store's lease was renewed");
  const state = (await peer.call("GET", "/api/registers/sync-state")).body;
  assert.equal(state.lastFullSync.at, new Date(peer.clock.now()).toISOString());
  assert.deepEqual(state.lastFullSync.counts, { processed: 3, added: 0, updated: 0, removed: 0 });
});

Deno.test("an identical bulk request after a register changed elsewhere is applied in full", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, body);
  await peer.call("POST", `/api/registers/${rid(2)}/advertise`, { isPublic: false });
  const res = await peer.call("POST", BULK, body);
  assert.deepEqual(res.body, {
    processed: 3,
    added: 0,
    updated: 1,
    removed: 0,
    unchanged: 2,
    persisted: true,
  });
  assert.equal((await peer.call("GET", "/api/registers/available")).body.length, 3);
});

Deno.test("an identical full sync after another local advertisement appeared removes it", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, body);
  await peer.call("POST", `/api/registers/${rid(9)}/advertise`, { isPublic: true });
  const res = await peer.call("POST", BULK, body);
  assert.equal(res.body.removed, 1);
  assert.equal((await peer.call("GET", "/api/registers/available")).body.length, 3);
});

Deno.test("an identical bulk request after a withdrawal or an expiry adds the register again", async () => {
  await using peer = await createTestPeer({ ttlSeconds: 10, graceSeconds: 0 });
  await peer.call("POST", BULK, body);
  await peer.call("DELETE", `/api/registers/${rid(1)}/advertise`);
  assert.equal((await peer.call("POST", BULK, body)).body.added, 1);
  peer.clock.advance(10_000);
  assert.equal((await peer.call("POST", BULK, body)).body.added, 3);
});

Deno.test("an identical body still needs the JSON content type", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, body);
  const res = await peer.call("POST", BULK, body, { "content-type": "text/plain" });
  assert.equal(res.status, 415);
});
