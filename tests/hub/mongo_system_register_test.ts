/**
 * The MongoDB system register: the shared contract and sharing one
 * collection between stores (hubs on one database), when `MONGODB_URL` is
 * set; an unreachable server and the store choice always.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Binary } from "mongodb";
import { ManualClock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import {
  type BlueprintEntry,
  ensureGenesis,
  openSystemRegisterStore,
  validateIntegrity,
} from "../../hub/system_register/mod.ts";
import {
  type MongoSystemRegisterStore,
  openMongoSystemRegisterStore,
} from "../../hub/system_register/mongo_store.ts";
import { publication, systemRegisterContract } from "./system_register_contract.ts";

import { dropCollection, TEST_DATABASE } from "../fixtures/mongo.ts";
const MONGODB_URL = Deno.env.get("MONGODB_URL");
const SKIPPED = "MONGODB_URL is not set";

/** A test's name, saying why it is skipped when it is. */
function named(title: string): string {
  return `mongodb system register: ${title}${MONGODB_URL ? "" : ` (skipped: ${SKIPPED})`}`;
}

/** A new collection name for one test. */
function freshCollection(): string {
  return `system_register_test_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Opens a store on `collection` of the test database. */
function openOn(url: string, collection: string): Promise<MongoSystemRegisterStore> {
  return openMongoSystemRegisterStore(url, { database: TEST_DATABASE, collection });
}

/** A store on a new, empty collection, dropped when the store is closed. */
async function openFreshStore(url: string): Promise<MongoSystemRegisterStore> {
  const collection = freshCollection();
  const store = await openOn(url, collection);
  const close = store.close.bind(store);
  return Object.assign(store, {
    async close() {
      try {
        await close();
      } finally {
        await dropCollection(url, { database: store.databaseName, collection });
      }
    },
  });
}

/** Runs `fn` with stores on one new collection (`count` of them), closing them and dropping it after. */
async function withSharedCollection(
  count: number,
  fn: (
    stores: MongoSystemRegisterStore[],
    reopen: () => Promise<MongoSystemRegisterStore>,
  ) => Promise<void>,
): Promise<void> {
  const url = MONGODB_URL!;
  const collection = freshCollection();
  const stores: MongoSystemRegisterStore[] = [];
  const reopen = async () => {
    const store = await openOn(url, collection);
    stores.push(store);
    return store;
  };
  try {
    for (let i = 0; i < count; i++) await reopen();
    await fn([...stores], reopen);
  } finally {
    for (const store of stores) await store.close();
    await dropCollection(url, { database: stores[0]?.databaseName ?? TEST_DATABASE, collection });
  }
}

async function all(iterable: AsyncIterable<BlueprintEntry>): Promise<BlueprintEntry[]> {
  const out: BlueprintEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

systemRegisterContract(
  named("contract"),
  () => MONGODB_URL ? openFreshStore(MONGODB_URL) : Promise.reject(new Error(SKIPPED)),
  { ignore: !MONGODB_URL },
);

Deno.test({
  name: named("two stores on one database share one version sequence"),
  ignore: !MONGODB_URL,
  async fn() {
    await withSharedCollection(2, async ([a, b]) => {
      const versions: number[] = [];
      for (let n = 0; n < 10; n++) {
        const store = n % 2 === 0 ? a! : b!;
        versions.push((await store.publish(publication(`bp-${n}`, n))).entry.version);
      }
      assert.deepEqual(versions, Array.from({ length: 10 }, (_, i) => i + 1));
      // At once: both stores compete for every version, some for the same blueprint.
      const racing = await Promise.all(
        Array.from(
          { length: 40 },
          (_, n) => (n % 2 === 0 ? a! : b!).publish(publication(`race-${n % 5}`, 10 + n)),
        ),
      );
      const assigned = racing.map((result) => result.entry.version).sort((x, y) => x - y);
      assert.deepEqual(assigned, Array.from({ length: 40 }, (_, i) => i + 11));
      assert.equal(await a!.currentVersion(), 50);
      assert.equal((await b!.head()).version, 50);
      assert.equal((await validateIntegrity(a!.entries({ pageSize: 7 }))).ok, true);
      for (let k = 0; k < 5; k++) {
        const versionsOfK = (await all(b!.entries()))
          .filter((entry) => entry.blueprintId === `race-${k}`);
        const active = versionsOfK.filter((entry) => entry.isActive);
        assert.deepEqual(active.map((entry) => entry.version), [
          Math.max(...versionsOfK.map((entry) => entry.version)),
        ]);
      }
    });
  },
});

Deno.test({
  name: named("genesis run by two hubs at once is stored once"),
  ignore: !MONGODB_URL,
  async fn() {
    await withSharedCollection(2, async (stores) => {
      const clock = new ManualClock();
      const results = await Promise.all(
        stores.map((store, i) => ensureGenesis(store, { clock, hubId: `hub-${i}` })),
      );
      assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
      assert.equal(results[0]!.entry.version, results[1]!.entry.version);
      assert.equal((await stores[0]!.head()).entryCount, 1);
    });
  },
});

Deno.test({
  name: named(
    "a changed document breaks the chain; an interrupted publication is repaired at open",
  ),
  ignore: !MONGODB_URL,
  async fn() {
    await withSharedCollection(1, async ([store], reopen) => {
      for (let n = 0; n < 3; n++) await store!.publish(publication("bp", n));
      // A crash after retiring version 2 and before activating version 3.
      assert.equal(await store!.updateForTest({ version: 3 }, { $set: { isActive: false } }), 1);
      // Read as if publications were atomic: version 3 is the blueprint's current entry.
      assert.equal((await store!.head()).activeCount, 1);
      assert.deepEqual(
        (await all(store!.entries({ activeOnly: true }))).map((e) => [e.version, e.isActive]),
        [[3, true]],
      );
      assert.equal((await store!.latest("bp"))?.version, 3);
      const reopened = await reopen();
      assert.equal((await reopened.latest("bp"))?.isActive, true);
      assert.equal((await reopened.head()).activeCount, 1);
      const forged = new Binary(new TextEncoder().encode('{"id":"bp","n":99}'));
      await reopened.updateForTest({ version: 2 }, { $set: { document: forged } });
      const report = await validateIntegrity(reopened.entries());
      assert.equal(report.ok, false);
      assert.equal(report.version, 2);
    });
  },
});

Deno.test({
  name: named("activeOnly reads yield unfinished publications and skip superseded entries"),
  ignore: !MONGODB_URL,
  async fn() {
    await withSharedCollection(1, async ([store]) => {
      const ids = ["a", "b", "a", "c", "b", "d", "c", "e"];
      for (const [n, id] of ids.entries()) await store!.publish(publication(id, n));
      // Version 6 (d) inserted and not yet activated; version 7 (c) inserted and version 4
      // retired, not yet activated: both caught in flight. Version 8 (e, another hub) is done.
      assert.equal(
        await store!.updateForTest({ version: { $in: [6, 7] } }, {
          $set: { isActive: false },
        }),
        2,
      );
      const pairs = (entries: BlueprintEntry[]) => entries.map((e) => [e.version, e.isActive]);
      assert.deepEqual(pairs(await all(store!.entries())), [
        [1, false],
        [2, false],
        [3, true],
        [4, false],
        [5, true],
        [6, false],
        [7, false],
        [8, true],
      ]);
      const current = [[3, true], [5, true], [6, true], [7, true], [8, true]];
      for (const pageSize of [1, 2, 3, 100]) {
        assert.deepEqual(
          pairs(await all(store!.entries({ activeOnly: true, pageSize }))),
          current,
          `pageSize ${pageSize}`,
        );
      }
      // A peer resuming after version 5 gets 6 and 7, not only 8.
      assert.deepEqual(
        pairs(await all(store!.entries({ activeOnly: true, afterVersion: 5, pageSize: 2 }))),
        [[6, true], [7, true], [8, true]],
      );
      // `limit` counts entries yielded, paging past superseded ones.
      assert.deepEqual(
        pairs(await all(store!.entries({ activeOnly: true, limit: 2, pageSize: 1 }))),
        [[3, true], [5, true]],
      );
      assert.deepEqual(
        pairs(await all(store!.entries({ activeOnly: true, afterVersion: 3, limit: 3 }))),
        [[5, true], [6, true], [7, true]],
      );
      assert.equal((await all(store!.entries({ activeOnly: true, afterVersion: 8 }))).length, 0);
      const head = await store!.head();
      assert.equal(head.activeCount, 5);
      assert.equal(head.entryCount, 8);
      // Once finished, the stored entries agree with what was read.
      assert.equal(await store!.repair(), 2);
      assert.deepEqual(
        pairs(await all(store!.entries())).filter(([, isActive]) => isActive),
        current,
      );
      assert.deepEqual(pairs(await all(store!.entries({ activeOnly: true }))), current);
      assert.equal((await store!.head()).activeCount, 5);
    });
  },
});

Deno.test("mongodb system register: an unreachable server is unavailable, without the URL's password", async () => {
  const url = "mongodb://user:secret@127.0.0.1:1/db";
  const started = performance.now();
  let error: unknown;
  try {
    const store = await openMongoSystemRegisterStore(url, { serverSelectionTimeoutMs: 300 });
    await store.close();
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof AppError, String(error));
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /^System register store \(MongoDB\) failed: /);
  assert.match(error.message, /mongodb:\/\/127\.0\.0\.1:1\/db/);
  assert.ok(!error.message.includes("secret"), error.message);
  assert.ok(!error.message.includes("user:"), error.message);
  assert.ok(performance.now() - started < 5_000, "opening gives up after the selection timeout");
});

Deno.test("system register: openSystemRegisterStore without a MongoDB URL opens SQLite in dataDir", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "system-register-" });
  try {
    const store = await openSystemRegisterStore({ dataDir: join(dataDir, "nested") });
    try {
      assert.equal(store.kind, "sqlite");
      await store.publish(publication("a", 1));
      assert.equal(await store.currentVersion(), 1);
    } finally {
      await store.close();
    }
    assert.ok((await Deno.stat(join(dataDir, "nested", "system-register.db"))).isFile);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
