import assert from "node:assert/strict";
import { AppError } from "../../shared/errors.ts";
import { openReplicaStore } from "../../peer/replica/mod.ts";
import { REPLICA_KEYS, STAGING_KEYS } from "../../peer/replica/redis_layout.ts";
import { openRedisReplicaStore, type RedisReplicaStore } from "../../peer/replica/redis_store.ts";
import { type RedisServer, startRedis } from "../fixtures/redis_server.ts";
import { assertCrashAtomicity } from "./replica_crash_harness.ts";
import { assertReplica, describeReplicaStoreContract } from "./replica_store_contract.ts";
import {
  binaryDocument,
  checkpointOf,
  sampleEntry,
  withDocument,
  withheld,
} from "./replica_samples.ts";

/** Fast reconnection, so tests waiting for it stay short. */
const STORE_OPTIONS = { maxReconnectDelayMs: 100 };

describeReplicaStoreContract("redis replica store", async () => {
  const redis = await startRedis();
  const store = openRedisReplicaStore(redis.url, STORE_OPTIONS);
  return {
    store,
    reopen: () => Promise.resolve(openRedisReplicaStore(redis.url, STORE_OPTIONS)),
    async [Symbol.asyncDispose]() {
      await store.close();
      await redis[Symbol.asyncDispose]();
    },
  };
}, { persistent: true });

/** A Redis server and stores on it, all released at the end of the test. */
async function redisAndStores(count = 1): Promise<
  { redis: RedisServer; stores: RedisReplicaStore[] } & AsyncDisposable
> {
  const redis = await startRedis();
  const stores = Array.from(
    { length: count },
    () => openRedisReplicaStore(redis.url, STORE_OPTIONS),
  );
  return {
    redis,
    stores,
    async [Symbol.asyncDispose]() {
      for (const store of stores) await store.close();
      await redis[Symbol.asyncDispose]();
    },
  };
}

/** The first of `stores`, holding one entry (returned) as its replica. */
async function withOldReplica(
  stores: RedisReplicaStore[],
): Promise<{ store: RedisReplicaStore; before: ReturnType<typeof sampleEntry>[] }> {
  const [store] = stores;
  assert.ok(store);
  const before = [sampleEntry(1)];
  await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
  return { store, before };
}

function assertUnavailable(error: unknown): true {
  assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+: /);
  return true;
}

Deno.test("redis replica store: the replica is kept under the contract keys, without TTLs, documents as raw bytes", async () => {
  await using fx = await redisAndStores();
  const [store] = fx.stores;
  assert.ok(store);
  const entries = [
    withDocument(sampleEntry(1), new Uint8Array([0x41, 0x42, 0x43])),
    withheld(sampleEntry(2)),
  ];
  await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
  assert.deepEqual(
    JSON.parse(String(await fx.redis.command("GET", REPLICA_KEYS.checkpoint))),
    checkpointOf(entries),
  );
  const stored = JSON.parse(String(await fx.redis.command("HGET", REPLICA_KEYS.entries, "bp-1")));
  assert.equal(stored.document, undefined, "the entry's JSON leaves its document out");
  assert.equal(stored.version, entries[0]?.version);
  assert.equal(await fx.redis.command("HGET", REPLICA_KEYS.documents, "bp-1"), "ABC");
  assert.equal(await fx.redis.command("HEXISTS", REPLICA_KEYS.documents, "bp-2"), 0);
  assert.deepEqual(
    await fx.redis.command("ZRANGE", REPLICA_KEYS.versions, "0", "-1", "WITHSCORES"),
    ["bp-1", String(entries[0]?.version), "bp-2", String(entries[1]?.version)],
  );
  for (const key of Object.values(REPLICA_KEYS)) {
    assert.equal(await fx.redis.command("PTTL", key), -1, `${key} has no TTL`);
  }
});

Deno.test("redis replica store: the store opens while Redis is down, fails fast with unavailable, and works once Redis is up", async () => {
  await using redis = await startRedis();
  await redis.stop();
  const store = openRedisReplicaStore(redis.url, STORE_OPTIONS);
  try {
    assert.equal(store.connected, false);
    await assert.rejects(store.checkpoint(), assertUnavailable);
    await assert.rejects(store.index(), assertUnavailable);
    await assert.rejects(store.list({ afterVersion: 0, limit: 10 }), assertUnavailable);
    await assert.rejects(store.get("bp-1"), assertUnavailable);
    await assert.rejects(
      store.apply({ upsert: [], remove: [], checkpoint: checkpointOf([]) }),
      assertUnavailable,
    );
    await assert.rejects(store.replace(), assertUnavailable);
    await redis.start();
    assert.equal(await store.ready(5_000), true);
    const entries = [sampleEntry(1)];
    await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
    await assertReplica(store, entries);
  } finally {
    await store.close();
  }
});

Deno.test("redis replica store: a replacement whose Redis goes away fails, and the old replica stays", async () => {
  await using fx = await redisAndStores();
  const { store, before } = await withOldReplica(fx.stores);
  const replacement = await store.replace();
  await replacement.add([sampleEntry(2)]);
  await fx.redis.restart({ keepData: true });
  await assert.rejects(replacement.commit(checkpointOf([sampleEntry(2)])), assertUnavailable);
  await replacement.abort();
  assert.equal(await store.ready(5_000), true);
  await assertReplica(store, before);
});

Deno.test("redis replica store: a replacement whose staging keys Redis lost is not committed, and the old replica stays", async () => {
  await using fx = await redisAndStores();
  const { store, before } = await withOldReplica(fx.stores);
  const after = [sampleEntry(2), sampleEntry(3), sampleEntry(4)];
  const replacement = await store.replace();
  await replacement.add(after.slice(0, 2));
  // What a Redis restarted without its data (or one that lost writes) would hold: less.
  await fx.redis.command("DEL", STAGING_KEYS.entries, STAGING_KEYS.versions);
  await replacement.add(after.slice(2));
  await assert.rejects(replacement.commit(checkpointOf(after)), (error) => {
    assertUnavailable(error);
    assert.match(
      (error as Error).message,
      /hold 1 entries and 1 versions, not the 3 blueprints the checkpoint counts/,
    );
    return true;
  });
  await replacement.abort();
  await assertReplica(store, before);
});

Deno.test("redis replica store: a Redis restarted without its data during a replacement leaves no checkpoint claiming entries", async () => {
  await using fx = await redisAndStores();
  const { store } = await withOldReplica(fx.stores);
  const after = [sampleEntry(2), sampleEntry(3)];
  const replacement = await store.replace();
  await replacement.add(after.slice(0, 1));
  await fx.redis.restart({ keepData: false });
  assert.equal(await store.ready(5_000), true);
  await replacement.add(after.slice(1));
  await assert.rejects(replacement.commit(checkpointOf(after)), assertUnavailable);
  await replacement.abort();
  // Redis lost the old replica too: the store is empty, and says so (no checkpoint).
  assert.equal(await store.checkpoint(), undefined);
  assert.deepEqual(await store.index(), []);
});

Deno.test("redis replica store: a reader on another connection sees the old replica until the commit, never a mix", async () => {
  await using fx = await redisAndStores(2);
  const [writer, reader] = fx.stores;
  assert.ok(writer && reader);
  const before = Array.from({ length: 1_000 }, (_, i) => sampleEntry(i));
  await writer.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
  const after = Array.from(
    { length: 1_500 },
    (_, i) => withDocument(sampleEntry(500 + i, { version: 5_000 + i }), binaryDocument(300, i)),
  );
  await using replacement = await writer.replace();
  for (let i = 0; i < after.length; i += 500) {
    await replacement.add(after.slice(i, i + 500));
    await assertReplica(reader, before);
    assert.equal((await reader.get("bp-600"))?.version, sampleEntry(600).version);
  }
  // Reads sent while the commit is on its way see one replica or the other, whole.
  const reads = Array.from({ length: 8 }, () => reader.list({ afterVersion: 0, limit: 5_000 }));
  const committed = replacement.commit(checkpointOf(after));
  const more = Array.from({ length: 8 }, () => reader.index());
  await committed;
  for (const list of await Promise.all(reads)) {
    assert.ok(list.length === before.length || list.length === after.length);
    const expected = list.length === before.length ? before : after;
    assert.deepEqual(list[0], expected[0]);
    assert.deepEqual(list.at(-1), expected.at(-1));
  }
  for (const index of await Promise.all(more)) {
    assert.ok(index.length === before.length || index.length === after.length);
  }
  await assertReplica(reader, after);
  assert.equal(await fx.redis.command("EXISTS", ...Object.values(STAGING_KEYS)), 0);
});

Deno.test("redis replica store: a new replacement deletes the staging keys a crashed one left", async () => {
  await using fx = await redisAndStores();
  const [store] = fx.stores;
  assert.ok(store);
  await fx.redis.command("HSET", STAGING_KEYS.entries, "bp-9", "{}");
  await fx.redis.command("HSET", STAGING_KEYS.documents, "bp-9", "x");
  await fx.redis.command("ZADD", STAGING_KEYS.versions, "9", "bp-9");
  await using replacement = await store.replace();
  assert.equal(await fx.redis.command("EXISTS", ...Object.values(STAGING_KEYS)), 0);
  const entries = [withheld(sampleEntry(1))];
  await replacement.add(entries);
  await replacement.commit(checkpointOf(entries));
  await assertReplica(store, entries);
  assert.equal(await fx.redis.command("EXISTS", REPLICA_KEYS.documents), 0);
});

Deno.test("redis replica store: openReplicaStore with a Redis URL opens the Redis store", async () => {
  await using redis = await startRedis();
  const store = openReplicaStore({ redisUrl: redis.url, dataDir: "/nonexistent" });
  try {
    assert.equal(store.kind, "redis");
    assert.equal(await store.checkpoint(), undefined);
  } finally {
    await store.close();
  }
});

Deno.test("redis replica store: a writer killed at any moment leaves a checkpoint and exactly the entries it describes", async () => {
  await using redis = await startRedis();
  await assertCrashAtomicity({
    writerArgs: ["redis", redis.url],
    open: () => Promise.resolve(openRedisReplicaStore(redis.url, STORE_OPTIONS)),
  });
});
