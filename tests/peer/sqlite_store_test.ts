import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { openAdvertisementStore } from "../../peer/store/mod.ts";
import { openSqliteStore, PURGE_INTERVAL_MS } from "../../peer/store/sqlite_store.ts";
import { DatabaseSync } from "node:sqlite";
import { describeStoreContract, sampleAdvertisement } from "./store_contract.ts";

describeStoreContract("sqlite store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqlite-store-" });
  const path = `${dir}/nested/peer-advertisements.db`;
  const clock = new ManualClock();
  const store = openSqliteStore(path, { clock });
  return {
    store,
    clock,
    reopen: () => Promise.resolve(openSqliteStore(path, { clock })),
    async [Symbol.asyncDispose]() {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}, { manualClock: true, persistent: true });

Deno.test("sqlite store: expired rows are purged by a write at most once a minute", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqlite-store-" });
  try {
    const path = `${dir}/store.db`;
    const clock = new ManualClock();
    const store = openSqliteStore(path, { clock });
    const rows = () => {
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        return Number(db.prepare("SELECT count(*) AS n FROM advertisements").get()?.n);
      } finally {
        db.close();
      }
    };
    try {
      const ad = (n: number) => sampleAdvertisement(n);
      // The first write purges (nothing yet) and starts the interval.
      await store.write({
        put: [{ advertisement: ad(1), expiresAt: clock.now() + 1_000, valueChanged: true }],
        remove: [],
      });
      clock.advance(2_000);
      await store.write({
        put: [{ advertisement: ad(2), expiresAt: clock.now() + 1_000_000, valueChanged: true }],
        remove: [],
      });
      assert.equal(rows(), 2, "no purge before the interval has passed");
      clock.advance(PURGE_INTERVAL_MS);
      await store.write({ put: [], remove: [] });
      assert.equal(rows(), 1, "the expired row is purged");
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: calls after close fail with an unavailable AppError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqlite-store-" });
  try {
    const store = openSqliteStore(`${dir}/store.db`);
    await store.close();
    await assert.rejects(store.loadAll(), (error) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "unavailable");
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite store: openAdvertisementStore without a Redis URL opens SQLite in the data directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sqlite-store-" });
  try {
    const store = await openAdvertisementStore({ dataDir: `${dir}/data` });
    try {
      assert.equal(store.kind, "sqlite");
      const info = await Deno.stat(`${dir}/data/peer-advertisements.db`);
      assert.ok(info.isFile);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
