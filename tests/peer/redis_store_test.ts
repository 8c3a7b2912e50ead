import assert from "node:assert/strict";
import { AppError } from "../../shared/errors.ts";
import { openAdvertisementStore } from "../../peer/store/mod.ts";
import { openRedisStore, type RedisAdvertisementStore } from "../../peer/store/redis_store.ts";
import {
  advertisementKey,
  encodeAdvertisement,
  FULL_SYNC_KEY,
  type StoreBatch,
} from "../../peer/store/types.ts";
import { type RedisServer, startRedis } from "../fixtures/redis_server.ts";
import { describeStoreContract, sampleAdvertisement } from "./store_contract.ts";

const LEASE_MS = 60_000;
/** Fast reconnection, so tests waiting for it stay short. */
const STORE_OPTIONS = { maxReconnectDelayMs: 100 };

describeStoreContract("redis store", async () => {
  const redis = await startRedis();
  const store = openRedisStore(redis.url, STORE_OPTIONS);
  return {
    store,
    reopen: () => Promise.resolve(openRedisStore(redis.url, STORE_OPTIONS)),
    async [Symbol.asyncDispose]() {
      await store.close();
      await redis[Symbol.asyncDispose]();
    },
  };
}, { persistent: true });

/** A Redis server and a store on it, both released at the end of the test. */
async function redisAndStore(
  options: { commandTimeoutMs?: number } = {},
): Promise<
  { redis: RedisServer; store: RedisAdvertisementStore; [Symbol.asyncDispose](): Promise<void> }
> {
  const redis = await startRedis();
  const store = openRedisStore(redis.url, { ...STORE_OPTIONS, ...options });
  return {
    redis,
    store,
    async [Symbol.asyncDispose]() {
      await store.close();
      await redis[Symbol.asyncDispose]();
    },
  };
}

/** Calls of one command since the server started, from `INFO commandstats` (scripts' calls included). */
async function commandCalls(redis: RedisServer, command: string): Promise<number> {
  const info = await redis.command("INFO", "commandstats");
  assert.equal(typeof info, "string");
  const match = String(info).match(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, "m"));
  return match ? Number(match[1]) : 0;
}

/** A promise settled by the store's next reconnection, failing after `ms`. */
function nextReconnect(store: RedisAdvertisementStore, ms = 5_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reconnection within ${ms} ms`)), ms);
    store.onReconnect(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function batchOf(count: number, valueChanged: boolean, expiresAt: number): StoreBatch {
  return {
    put: Array.from({ length: count }, (_, i) => ({
      advertisement: sampleAdvertisement(i, i % 2 === 0 ? {} : { peerId: "peer-b" }),
      expiresAt,
      valueChanged,
    })),
    remove: [],
  };
}

function assertUnavailable(error: unknown): true {
  assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /^Redis at redis:\/\/127\.0\.0\.1:\d+: /);
  return true;
}

Deno.test("redis store: advertisements are stored under the contract keys as JSON with their lease as TTL", async () => {
  await using fx = await redisAndStore();
  const local = sampleAdvertisement(1);
  const remote = sampleAdvertisement(2, { peerId: "peer-b_2" });
  await fx.store.write({
    put: [
      { advertisement: local, expiresAt: Date.now() + LEASE_MS, valueChanged: true },
      { advertisement: remote, expiresAt: Date.now() + LEASE_MS, valueChanged: true },
    ],
    remove: [],
  });
  const localKey = `peer:advert:local:${local.registerId}`;
  const remoteKey = `peer:advert:remote:peer-b_2:${remote.registerId}`;
  assert.equal(advertisementKey(local), localKey);
  assert.equal(await fx.redis.command("GET", localKey), encodeAdvertisement(local));
  assert.equal(await fx.redis.command("GET", remoteKey), encodeAdvertisement(remote));
  for (const key of [localKey, remoteKey]) {
    const pttl = Number(await fx.redis.command("PTTL", key));
    assert.ok(pttl > LEASE_MS - 5_000 && pttl <= LEASE_MS, `PTTL of ${key} is ${pttl}`);
  }
  await fx.store.saveFullSync({
    at: new Date().toISOString(),
    counts: { processed: 2, added: 2, updated: 0, removed: 0 },
    outcome: "persisted",
  });
  assert.equal(await fx.redis.command("PTTL", FULL_SYNC_KEY), -1, "the record has no TTL");
});

Deno.test("redis store: a refresh-only batch runs no SET and moves every TTL", async () => {
  await using fx = await redisAndStore();
  await fx.store.write(batchOf(1_000, true, Date.now() + LEASE_MS));
  const setsBefore = await commandCalls(fx.redis, "set");
  const pexpiresBefore = await commandCalls(fx.redis, "pexpire");
  assert.ok(setsBefore >= 1_000, "the value writes were counted as SETs");
  const outcome = await fx.store.write(batchOf(1_000, false, Date.now() + 2 * LEASE_MS));
  assert.deepEqual(outcome, { restored: 0 });
  assert.equal(await commandCalls(fx.redis, "set"), setsBefore);
  assert.equal(await commandCalls(fx.redis, "pexpire"), pexpiresBefore + 1_000);
  const key = advertisementKey(sampleAdvertisement(0));
  assert.ok(Number(await fx.redis.command("PTTL", key)) > LEASE_MS);
});

Deno.test("redis store: a refresh-only write restores an entry deleted by hand", async () => {
  await using fx = await redisAndStore();
  await fx.store.write(batchOf(10, true, Date.now() + LEASE_MS));
  const deleted = advertisementKey(sampleAdvertisement(3, { peerId: "peer-b" }));
  assert.equal(await fx.redis.command("DEL", deleted), 1);
  const setsBefore = await commandCalls(fx.redis, "set");
  const outcome = await fx.store.write(batchOf(10, false, Date.now() + LEASE_MS));
  assert.deepEqual(outcome, { restored: 1 });
  assert.equal(await commandCalls(fx.redis, "set"), setsBefore + 1, "only the missing key is SET");
  assert.equal(
    await fx.redis.command("GET", deleted),
    encodeAdvertisement(sampleAdvertisement(3, { peerId: "peer-b" })),
  );
  assert.equal((await fx.store.loadAll()).length, 10);
});

Deno.test("redis store: loadAll skips keys without a TTL, undecodable values and other types", async () => {
  await using fx = await redisAndStore();
  const good = sampleAdvertisement(1);
  await fx.store.write({
    put: [{ advertisement: good, expiresAt: Date.now() + LEASE_MS, valueChanged: true }],
    remove: [],
  });
  await fx.redis.command(
    "SET",
    advertisementKey(sampleAdvertisement(2)),
    encodeAdvertisement(good),
  );
  await fx.redis.command(
    "SET",
    advertisementKey(sampleAdvertisement(3)),
    "not json",
    "PX",
    "60000",
  );
  await fx.redis.command("HSET", advertisementKey(sampleAdvertisement(4)), "a", "b");
  await fx.redis.command("SET", "peer:advert:unrelated", "x", "PX", "60000");
  const loaded = await fx.store.loadAll();
  assert.deepEqual(loaded.map((entry) => entry.advertisement), [good]);
});

Deno.test("redis store: calls fail fast with an unavailable AppError while Redis is stopped", async () => {
  await using fx = await redisAndStore({ commandTimeoutMs: 1_000 });
  assert.deepEqual(await fx.store.loadAll(), []);
  assert.equal(fx.store.connected, true);
  await fx.redis.stop();
  const started = performance.now();
  await assert.rejects(fx.store.loadAll(), assertUnavailable);
  await assert.rejects(fx.store.write(batchOf(3, true, Date.now() + LEASE_MS)), assertUnavailable);
  await assert.rejects(fx.store.loadFullSync(), assertUnavailable);
  await assert.rejects(
    fx.store.saveFullSync({
      at: new Date().toISOString(),
      counts: { processed: 0, added: 0, updated: 0, removed: 0 },
      outcome: "persisted",
    }),
    assertUnavailable,
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1_000, `failing took ${elapsed} ms`);
  assert.equal(fx.store.connected, false);
});

Deno.test("redis store: onReconnect listeners are called after the server restarts, and writes work again", async () => {
  await using fx = await redisAndStore();
  let calls = 0;
  fx.store.onReconnect(() => calls++);
  await fx.store.write(batchOf(5, true, Date.now() + LEASE_MS));
  assert.equal(calls, 0, "the first connection is not a reconnection");
  const reconnected = nextReconnect(fx.store);
  await fx.redis.restart({ keepData: true });
  await reconnected;
  assert.equal(calls, 1);
  assert.equal(fx.store.connected, true);
  assert.equal((await fx.store.loadAll()).length, 5, "the kept data is loaded");
  await fx.store.write(batchOf(6, true, Date.now() + LEASE_MS));
  assert.equal((await fx.store.loadAll()).length, 6);
});

Deno.test("redis store: the store opens while Redis is down and works once it is up", async () => {
  await using redis = await startRedis();
  await redis.stop();
  const store = openRedisStore(redis.url, STORE_OPTIONS);
  try {
    assert.equal(store.connected, false);
    await assert.rejects(store.loadAll(), assertUnavailable);
    const reconnected = nextReconnect(store);
    await redis.start();
    await reconnected;
    assert.equal(store.connected, true);
    await store.write(batchOf(2, true, Date.now() + LEASE_MS));
    assert.equal((await store.loadAll()).length, 2);
  } finally {
    await store.close();
  }
});

Deno.test("redis store: close does not wait for a Redis that is down", async () => {
  await using redis = await startRedis();
  const store = openRedisStore(redis.url, STORE_OPTIONS);
  assert.equal(await store.ready(), true);
  await redis.stop();
  await assert.rejects(store.loadAll(), assertUnavailable);
  const started = performance.now();
  await store.close();
  assert.ok(performance.now() - started < 100);
  await assert.rejects(store.loadAll(), assertUnavailable);
});

Deno.test("redis store: openAdvertisementStore with a Redis URL opens the Redis store", async () => {
  await using redis = await startRedis();
  const store = await openAdvertisementStore({ redisUrl: redis.url, dataDir: "/nonexistent" });
  try {
    assert.equal(store.kind, "redis");
    assert.deepEqual(await store.loadAll(), []);
  } finally {
    await store.close();
  }
});
