import assert from "node:assert/strict";
import { createTestPeer, item, rid } from "./helpers.ts";

const path = (n: number) => `/api/registers/${rid(n)}/advertise`;

Deno.test("advertising one register adds it, then reports unchanged, then updated", async () => {
  await using peer = await createTestPeer();
  const first = await peer.call("POST", path(1), { isPublic: true, latestVersion: 4 });
  assert.equal(first.status, 200);
  assert.equal(first.body.outcome, "added");
  assert.equal(first.body.persisted, true);
  assert.equal(first.body.advertisement.registerId, rid(1));
  assert.equal(first.body.advertisement.latestVersion, 4);
  assert.equal(first.body.advertisement.syncState, "Active");
  assert.equal(
    first.body.advertisement.expiresAt,
    new Date(peer.clock.now() + 375_000).toISOString(),
  );
  assert.equal((await peer.call("POST", path(1), { isPublic: true })).body.outcome, "unchanged");
  assert.equal((await peer.call("POST", path(1), { isPublic: false })).body.outcome, "updated");
  assert.deepEqual((await peer.call("GET", "/api/registers/available")).body, []);
});

Deno.test("advertising one register without versions keeps the versions already known", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", "/api/registers/bulk-advertise", {
    advertisements: [item(1, { latestVersion: 9, latestDocketVersion: 5 })],
  });
  const res = await peer.call("POST", path(1), { isPublic: true });
  assert.equal(res.body.outcome, "unchanged");
  assert.equal(res.body.advertisement.latestVersion, 9);
  assert.equal(res.body.advertisement.latestDocketVersion, 5);
});

Deno.test("withdrawing a register removes it from memory and store, and is idempotent", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", path(1), { isPublic: true });
  const res = await peer.call("DELETE", path(1));
  assert.deepEqual(res.body, { registerId: rid(1), removed: true, persisted: true });
  assert.equal(peer.store.entries.size, 0);
  assert.deepEqual((await peer.call("GET", "/api/registers/available")).body, []);
  const again = await peer.call("DELETE", path(1));
  assert.equal(again.status, 200);
  assert.equal(again.body.removed, false);
});
