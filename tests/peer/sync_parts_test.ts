/**
 * Full syncs sent in parts (`syncId`, `part`, `lastPart`): nothing changes
 * before the last part, which applies the union of the parts as one full
 * sync; parts out of order, repeated registers and abandoned syncs.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { DEFAULT_PART_TIMEOUT_MS } from "../../peer/advertisements/sync_parts.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { createTestPeer, item, rid, type TestPeer } from "./helpers.ts";

const BULK = "/api/registers/bulk-advertise";

/** The public registers the peer lists (every test's registers are public). */
function localIds(peer: TestPeer): string[] {
  return peer.registry.available().map((r) => r.registerId);
}

/** The items `from` to `to - 1`. */
function items(from: number, to: number, fields: { latestVersion?: number } = {}) {
  return Array.from({ length: to - from }, (_, i) => item(from + i, fields));
}

Deno.test("a full sync in parts changes nothing before its last part, then replaces the local set with the union of its parts", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: items(1, 4), fullSync: true });
  const before = localIds(peer);
  const writes = peer.store.roundTrips;

  const first = await peer.call("POST", BULK, {
    advertisements: items(3, 6, { latestVersion: 2 }),
    syncId: "sync-1",
    part: 0,
  });
  assert.equal(first.status, 200);
  assert.deepEqual(first.body, {
    processed: 3,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: 0,
    persisted: true,
  });
  const middle = await peer.call("POST", BULK, {
    advertisements: items(6, 8),
    syncId: "sync-1",
    part: 1,
    lastPart: false,
  });
  assert.equal(middle.status, 200);
  assert.deepEqual(localIds(peer), before, "nothing applied before the last part");
  assert.equal(peer.store.roundTrips, writes, "nothing written before the last part");
  const pending = (await peer.call("GET", "/api/registers/sync-state")).body.pendingSyncs;
  assert.deepEqual(
    pending.map((p: { syncId: string; parts: number; items: number }) => [
      p.syncId,
      p.parts,
      p.items,
    ]),
    [["sync-1", 2, 5]],
  );

  const last = await peer.call("POST", BULK, {
    advertisements: [item(8)],
    syncId: "sync-1",
    part: 2,
    lastPart: true,
  });
  assert.equal(last.status, 200);
  assert.deepEqual(last.body, {
    processed: 6,
    added: 5,
    updated: 1,
    removed: 2,
    unchanged: 0,
    persisted: true,
  });
  assert.deepEqual(localIds(peer), items(3, 9).map((i) => i.registerId));
  assert.equal(peer.store.roundTrips, writes + 1, "the union is written in one write");
  const state = (await peer.call("GET", "/api/registers/sync-state")).body;
  assert.deepEqual(state.pendingSyncs, []);
  assert.deepEqual(state.lastFullSync.counts, { processed: 6, added: 5, updated: 1, removed: 2 });
  assert.deepEqual((await peer.store.loadFullSync())?.counts, state.lastFullSync.counts);
});

Deno.test("a sync of one part, its last, is a full sync like one without parts", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: items(1, 3) });
  const res = await peer.call("POST", BULK, {
    advertisements: [item(2)],
    syncId: "only",
    part: 0,
    lastPart: true,
  });
  assert.equal(res.body.removed, 1);
  assert.deepEqual(localIds(peer), [rid(2)]);
});

Deno.test("a part that is not the next one of its sync is answered 412, drops the sync, and a sync sent again from part 0 goes through", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: items(1, 3), fullSync: true });
  await peer.call("POST", BULK, { advertisements: [item(5)], syncId: "s", part: 0 });
  const skipped = await peer.call("POST", BULK, {
    advertisements: [item(7)],
    syncId: "s",
    part: 2,
    lastPart: true,
  });
  assert.equal(skipped.status, 412);
  assert.equal(skipped.body.error.code, "failed_precondition");
  assert.match(
    skipped.body.error.message,
    /part 2 is not the next; send the sync again from part 0/,
  );
  const unknown = await peer.call("POST", BULK, {
    advertisements: [item(6)],
    syncId: "s",
    part: 1,
    lastPart: true,
  });
  assert.equal(unknown.status, 412, "the sync was dropped");
  assert.match(unknown.body.error.message, /its earlier parts are not here/);
  assert.deepEqual(localIds(peer), [rid(1), rid(2)], "nothing applied");

  await peer.call("POST", BULK, { advertisements: [item(5)], syncId: "s", part: 0 });
  const again = await peer.call("POST", BULK, {
    advertisements: [item(6)],
    syncId: "s",
    part: 1,
    lastPart: true,
  });
  assert.equal(again.status, 200);
  assert.deepEqual(localIds(peer), [rid(5), rid(6)]);
});

Deno.test("a register repeated in two parts is refused at the last part, naming both, and nothing changes", async () => {
  await using peer = await createTestPeer();
  await peer.call("POST", BULK, { advertisements: items(1, 3), fullSync: true });
  await peer.call("POST", BULK, { advertisements: items(4, 6), syncId: "dup", part: 0 });
  const res = await peer.call("POST", BULK, {
    advertisements: [item(9), item(5)],
    syncId: "dup",
    part: 1,
    lastPart: true,
  });
  assert.equal(res.status, 400);
  assert.match(
    res.body.error.message,
    /part 1 advertisements\[1\]\.registerId repeats part 0 advertisements\[1\]\.registerId/,
  );
  assert.deepEqual(localIds(peer), [rid(1), rid(2)]);
});

Deno.test("part fields are refused without syncId, and syncId without a part number", async () => {
  await using peer = await createTestPeer();
  for (
    const [body, message] of [
      [{ advertisements: [], part: 0 }, /part is only for a part \(with syncId\)/],
      [{ advertisements: [], lastPart: true }, /lastPart is only for a part \(with syncId\)/],
      [{ advertisements: [], syncId: "s" }, /part is required with syncId/],
      [{ advertisements: [], syncId: "s p", part: 0 }, /syncId must be 1 to 64 of/],
      [{ advertisements: [], syncId: "s", part: -1 }, /part must be a whole number from 0/],
    ] as const
  ) {
    const res = await peer.call("POST", BULK, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(res.body.error.message, message);
  }
  assert.equal(peer.store.roundTrips, 0);
});

Deno.test("the parts of an abandoned sync are dropped once its timeout has passed with no next part, even when nothing else comes", async () => {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  await using peer = await createTestPeer({ clock, scheduler });
  await peer.call("POST", BULK, { advertisements: items(1, 100), syncId: "gone", part: 0 });
  assert.equal(peer.registry.syncState().pendingSyncs?.length, 1);
  const wait = await scheduler.nextSleep();
  assert.equal(wait.ms, DEFAULT_PART_TIMEOUT_MS);
  wait.release(); // the clock moves by the timeout
  await Promise.resolve();
  assert.deepEqual(peer.registry.syncState().pendingSyncs, []);
  assert.equal(scheduler.pending.length, 0, "no wait is left once no sync is unfinished");
  const late = await peer.call("POST", BULK, {
    advertisements: [],
    syncId: "gone",
    part: 1,
    lastPart: true,
  });
  assert.equal(late.status, 412);
});

Deno.test("a part in time keeps its sync: the timeout counts from the latest part", async () => {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  await using peer = await createTestPeer({ clock, scheduler });
  await peer.call("POST", BULK, { advertisements: [item(1)], syncId: "slow", part: 0 });
  clock.advance(DEFAULT_PART_TIMEOUT_MS - 1);
  await peer.call("POST", BULK, { advertisements: [item(2)], syncId: "slow", part: 1 });
  clock.advance(DEFAULT_PART_TIMEOUT_MS - 1);
  const last = await peer.call("POST", BULK, {
    advertisements: [item(3)],
    syncId: "slow",
    part: 2,
    lastPart: true,
  });
  assert.equal(last.status, 200);
  assert.deepEqual(localIds(peer), [rid(1), rid(2), rid(3)]);
  assert.equal(scheduler.pending.length, 0);
});
