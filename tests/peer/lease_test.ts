import assert from "node:assert/strict";
import { createTestPeer, item, rid } from "./helpers.ts";

const BULK = "/api/registers/bulk-advertise";
const TTL = 300;

async function ids(peer: Awaited<ReturnType<typeof createTestPeer>>): Promise<string[]> {
  return (await peer.call("GET", "/api/registers/available")).body.map((
    r: { registerId: string },
  ) => r.registerId);
}

Deno.test("an advertisement not refreshed within its lease leaves available, in memory and store", async () => {
  await using peer = await createTestPeer({ ttlSeconds: TTL, graceSeconds: 75 });
  await peer.call("POST", BULK, { advertisements: [item(1), item(2)] });
  peer.clock.advance(200_000);
  await peer.call("POST", BULK, { advertisements: [item(2)] });
  peer.clock.advance(175_000); // item 1 is now 375 s old: TTL + grace
  assert.deepEqual(await ids(peer), [rid(2)]);
  assert.equal((await peer.store.loadAll()).length, 1);
  const state = (await peer.call("GET", "/api/registers/sync-state")).body;
  assert.equal(state.localCount, 1);
});

Deno.test("an expired advertisement advertised again counts as added", async () => {
  await using peer = await createTestPeer({ ttlSeconds: 10, graceSeconds: 0 });
  await peer.call("POST", BULK, { advertisements: [item(1)] });
  peer.clock.advance(10_000);
  const res = await peer.call("POST", BULK, { advertisements: [item(1)], fullSync: true });
  assert.equal(res.body.added, 1);
  assert.equal(res.body.removed, 0);
});

Deno.test("a full sync does not count already expired local advertisements as removed", async () => {
  await using peer = await createTestPeer({ ttlSeconds: 10, graceSeconds: 0 });
  await peer.call("POST", BULK, { advertisements: [item(1), item(2)] });
  peer.clock.advance(10_000);
  const res = await peer.call("POST", BULK, { advertisements: [], fullSync: true });
  assert.equal(res.body.removed, 0);
});

/**
 * The schedule the spec's defaults give: a reconciliation every 300 s, TTL
 * 300 s. A refresh that runs late by a little (jitter, a slow request) must
 * not let the register vanish between the TTL and the refresh.
 */
async function refreshesOnScheduleNeverBlink(graceSeconds: number): Promise<boolean> {
  await using peer = await createTestPeer({ ttlSeconds: TTL, graceSeconds });
  await peer.call("POST", BULK, { advertisements: [item(1)], fullSync: true });
  const lateness = [0, 5_000, 30_000, 1_000, 45_000, 0, 60_000, 12_000];
  for (const late of lateness) {
    // Look at every second between two refreshes.
    for (let t = 0; t < TTL * 1000 + late; t += 1000) {
      peer.clock.advance(1000);
      if ((await ids(peer)).length !== 1) return false;
    }
    await peer.call("POST", BULK, { advertisements: [item(1)], fullSync: true });
  }
  return true;
}

Deno.test("a register refreshed on schedule, up to a minute late, never leaves available", async () => {
  assert.equal(await refreshesOnScheduleNeverBlink(75), true);
});

Deno.test("without the grace, the same late refreshes would let the register blink out", async () => {
  assert.equal(await refreshesOnScheduleNeverBlink(0), false);
});

Deno.test("available is served from a cache that ends when the first lease does", async () => {
  await using peer = await createTestPeer({ ttlSeconds: 10, graceSeconds: 0 });
  await peer.call("POST", BULK, { advertisements: [item(1)] });
  peer.clock.advance(5_000);
  await peer.call("POST", BULK, { advertisements: [item(2)] });
  assert.deepEqual(await ids(peer), [rid(1), rid(2)]);
  peer.clock.advance(5_000);
  assert.deepEqual(await ids(peer), [rid(2)], "the cached list did not outlive register 1's lease");
});
