/**
 * The Redis store's full-sync journal: a full sync's changes and record
 * land together; what a crash left is finished (committed) or dropped (not
 * committed) before anything is read.
 */
import assert from "node:assert/strict";
import { JOURNAL_COMMIT_KEY, JOURNAL_KEY } from "../../peer/store/redis_journal.ts";
import { openRedisStore } from "../../peer/store/redis_store.ts";
import {
  advertisementKey,
  encodeAdvertisement,
  FULL_SYNC_KEY,
  type FullSyncRecord,
} from "../../peer/store/types.ts";
import { startRedis } from "../fixtures/redis_server.ts";
import { sampleAdvertisement } from "./store_contract.ts";

const LEASE_MS = 60_000;
const RECORD: FullSyncRecord = {
  at: "2026-01-01T00:00:00.000Z",
  counts: { processed: 2, added: 2, updated: 0, removed: 1 },
  outcome: "persisted",
};

/** A journal line writing `n`'s advertisement, or deleting it. */
function line(
  n: number,
  op: "set" | "delete",
  { expiresAt = Date.now() + LEASE_MS }: { expiresAt?: number } = {},
): string {
  const advertisement = sampleAdvertisement(n);
  const key = advertisementKey(advertisement);
  return op === "delete" ? `${key} -` : `${key} ${expiresAt} ${encodeAdvertisement(advertisement)}`;
}

Deno.test("a full sync's changes and record are written together, and no journal is left behind", async () => {
  await using redis = await startRedis();
  const store = openRedisStore(redis.url);
  try {
    const expiresAt = Date.now() + LEASE_MS;
    await store.write({
      put: [1, 2].map((n) => ({
        advertisement: sampleAdvertisement(n),
        expiresAt,
        valueChanged: true,
      })),
      remove: [],
    });
    await store.write({
      put: [2, 3].map((n) => ({
        advertisement: sampleAdvertisement(n),
        expiresAt,
        valueChanged: n === 3,
      })),
      remove: [sampleAdvertisement(1)],
      fullSync: RECORD,
    });
    const ids = (await store.loadAll()).map((e) => e.advertisement.registerId).sort();
    assert.deepEqual(ids, [2, 3].map((n) => sampleAdvertisement(n).registerId).sort());
    assert.deepEqual(await store.loadFullSync(), RECORD);
    assert.equal(await redis.command("EXISTS", JOURNAL_KEY, JOURNAL_COMMIT_KEY), 0);
  } finally {
    await store.close();
  }
});

Deno.test("a committed journal a crash left is applied to the end, with its record, before the store is read", async () => {
  await using redis = await startRedis();
  await redis.command(
    "SET",
    advertisementKey(sampleAdvertisement(1)),
    encodeAdvertisement(sampleAdvertisement(1)),
    "PX",
    String(LEASE_MS),
  );
  // Written, committed, and cut off before it was applied: 2 and 3 to write, 1 to delete, and 4
  // whose lease ended meanwhile.
  await redis.command("RPUSH", JOURNAL_KEY, [line(2, "set"), line(1, "delete")].join("\n"));
  await redis.command(
    "RPUSH",
    JOURNAL_KEY,
    [line(3, "set"), line(4, "set", { expiresAt: 1 })].join("\n"),
  );
  await redis.command("SET", JOURNAL_COMMIT_KEY, JSON.stringify(RECORD));
  const store = openRedisStore(redis.url);
  try {
    const loaded = await store.loadAll();
    assert.deepEqual(
      loaded.map((e) => e.advertisement.registerId).sort(),
      [2, 3].map((n) => sampleAdvertisement(n).registerId).sort(),
    );
    for (const entry of loaded) {
      assert.ok(entry.expiresAt > Date.now() + LEASE_MS - 5_000, "the journal's lease is kept");
    }
    assert.deepEqual(await store.loadFullSync(), RECORD);
    assert.equal(await redis.command("EXISTS", JOURNAL_KEY, JOURNAL_COMMIT_KEY), 0);
    assert.equal(await redis.command("EXISTS", advertisementKey(sampleAdvertisement(4))), 0);
  } finally {
    await store.close();
  }
});

Deno.test("a journal a crash left before its commit is dropped: the store keeps what it held", async () => {
  await using redis = await startRedis();
  const before: FullSyncRecord = { ...RECORD, at: "2025-12-31T00:00:00.000Z" };
  await redis.command("SET", FULL_SYNC_KEY, JSON.stringify(before));
  await redis.command(
    "SET",
    advertisementKey(sampleAdvertisement(1)),
    encodeAdvertisement(sampleAdvertisement(1)),
    "PX",
    String(LEASE_MS),
  );
  await redis.command("RPUSH", JOURNAL_KEY, [line(2, "set"), line(1, "delete")].join("\n"));
  const store = openRedisStore(redis.url);
  try {
    assert.deepEqual(
      (await store.loadAll()).map((e) => e.advertisement.registerId),
      [sampleAdvertisement(1).registerId],
    );
    assert.deepEqual(await store.loadFullSync(), before);
    assert.equal(await redis.command("EXISTS", JOURNAL_KEY), 0);
  } finally {
    await store.close();
  }
});
