/**
 * The Redis store's write planning, without Redis: a batch reduced to one
 * operation per key, the put script's arguments, refreshes grouped by lease
 * end, and the missing keys read from the refresh script's replies.
 */
import assert from "node:assert/strict";
import {
  chunks,
  groupByExpiry,
  missingRefreshes,
  planBatch,
  putArgs,
  type RefreshPlan,
  ttlOf,
} from "../../peer/store/redis_batch_plan.ts";
import { advertisementKey, encodeAdvertisement } from "../../peer/store/types.ts";
import { sampleAdvertisement } from "./store_contract.ts";

const NOW = Date.UTC(2026, 0, 1);
const LEASE = NOW + 60_000;

Deno.test("a batch is planned as one operation per key: changed values set, unchanged ones refreshed, removals deleted", () => {
  const changed = sampleAdvertisement(1);
  const same = sampleAdvertisement(2, { peerId: "peer-b" });
  const gone = sampleAdvertisement(3);
  const plan = planBatch({
    put: [
      { advertisement: changed, expiresAt: LEASE, valueChanged: true },
      { advertisement: same, expiresAt: LEASE, valueChanged: false },
    ],
    remove: [gone],
  }, NOW);
  assert.deepEqual(plan.sets, [
    { key: advertisementKey(changed), advertisement: changed, expiresAt: LEASE },
  ]);
  assert.deepEqual(plan.refreshes, [
    { key: advertisementKey(same), advertisement: same, expiresAt: LEASE },
  ]);
  assert.deepEqual(plan.deletes, [advertisementKey(gone)]);
  assert.equal(plan.restored, 0);
});

Deno.test("a planned batch ends as its puts in order and then its removals would leave the keys", () => {
  const ad = sampleAdvertisement(1);
  const key = advertisementKey(ad);
  const expired = planBatch({
    put: [{ advertisement: ad, expiresAt: NOW, valueChanged: true }],
    remove: [],
  }, NOW);
  assert.deepEqual(expired.deletes, [key], "a lease already ended deletes the key");
  const restored = planBatch({
    put: [
      { advertisement: ad, expiresAt: NOW - 1, valueChanged: true },
      { advertisement: ad, expiresAt: LEASE, valueChanged: false },
    ],
    remove: [],
  }, NOW);
  assert.deepEqual(restored.sets.map((set) => set.key), [key]);
  assert.equal(restored.restored, 1, "a refresh after a delete in the same batch is a restore");
  const refreshedTwice = planBatch({
    put: [
      { advertisement: ad, expiresAt: LEASE, valueChanged: true },
      { advertisement: ad, expiresAt: LEASE + 1, valueChanged: false },
    ],
    remove: [],
  }, NOW);
  assert.deepEqual(refreshedTwice.sets, [{ key, advertisement: ad, expiresAt: LEASE + 1 }]);
  const removedAfter = planBatch({
    put: [{ advertisement: ad, expiresAt: LEASE, valueChanged: true }],
    remove: [ad],
  }, NOW);
  assert.deepEqual([removedAfter.sets, removedAfter.deletes], [[], [key]]);
});

Deno.test("the put script's arguments are the mode, then each value and its TTL of at least 1 ms", () => {
  const a = sampleAdvertisement(1);
  const b = sampleAdvertisement(2);
  const args = putArgs(
    [
      { key: advertisementKey(a), advertisement: a, expiresAt: NOW + 1500.2 },
      { key: advertisementKey(b), advertisement: b, expiresAt: NOW - 10 },
    ],
    "NX",
    NOW,
  );
  assert.deepEqual(args, ["NX", encodeAdvertisement(a), 1501, encodeAdvertisement(b), 1]);
  assert.equal(ttlOf(NOW, NOW), 1);
});

Deno.test("refreshes are grouped by lease end in order of first appearance, and sliced into chunks", () => {
  const refresh = (n: number, expiresAt: number): RefreshPlan => {
    const advertisement = sampleAdvertisement(n);
    return { key: advertisementKey(advertisement), advertisement, expiresAt };
  };
  const [r1, r2, r3] = [refresh(1, LEASE + 1), refresh(2, LEASE), refresh(3, LEASE + 1)];
  assert.deepEqual(groupByExpiry([r1!, r2!, r3!]), [[r1, r3], [r2]]);
  assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunks([], 2), []);
});

Deno.test("the refreshes found missing are read from the 1-based positions each chunk's reply lists", () => {
  const refresh = (n: number): RefreshPlan => {
    const advertisement = sampleAdvertisement(n);
    return { key: advertisementKey(advertisement), advertisement, expiresAt: LEASE };
  };
  const first = [refresh(1), refresh(2), refresh(3)];
  const second = [refresh(4)];
  assert.deepEqual(missingRefreshes([first, second], [[1, 3], [1]]), [
    first[0],
    first[2],
    second[0],
  ]);
  assert.deepEqual(missingRefreshes([first], [null]), [], "a reply that is not a list: none");
  assert.deepEqual(missingRefreshes([first], [[4]]), [], "a position past the chunk: none");
});
