import assert from "node:assert/strict";
import { AppError } from "../../shared/errors.ts";
import { openRegisterStore } from "../../register/store/mod.ts";
import {
  databaseFromUrl,
  openMongoRegisterStore,
  redactUrl,
} from "../../register/store/mongo_store.ts";
import { registerStoreContract, type RegisterStoreFixture } from "./store_contract.ts";

import { dropCollection, TEST_DATABASE } from "../fixtures/mongo.ts";
const MONGODB_URL = Deno.env.get("MONGODB_URL");
const SKIPPED = "MONGODB_URL is not set";

/** A store on a new, empty collection, dropped when the fixture is disposed. */
async function openFreshStore(url: string): Promise<RegisterStoreFixture> {
  const collection = `registers_test_${crypto.randomUUID().replaceAll("-", "")}`;
  const store = await openMongoRegisterStore(url, { database: TEST_DATABASE, collection });
  const database = store.databaseName;
  return Object.assign(store, {
    async [Symbol.asyncDispose]() {
      try {
        await store.close();
      } finally {
        await dropCollection(url, { database, collection });
      }
    },
  });
}

registerStoreContract(
  "mongodb register store",
  () => MONGODB_URL ? openFreshStore(MONGODB_URL) : Promise.reject(new Error(SKIPPED)),
  MONGODB_URL ? {} : { ignore: true, ignoreReason: SKIPPED },
);

Deno.test({
  name: `mongodb register store: openRegisterStore with mongodbUrl opens MongoDB${
    MONGODB_URL ? "" : ` (skipped: ${SKIPPED})`
  }`,
  ignore: !MONGODB_URL,
  async fn() {
    const store = await openRegisterStore({ mongodbUrl: MONGODB_URL, dataDir: "/nonexistent" });
    try {
      assert.equal(store.kind, "mongodb");
      await store.ping();
    } finally {
      await store.close();
    }
  },
});

Deno.test("mongodb register store: an unreachable server is unavailable, without the URL's password", async () => {
  const url = "mongodb://user:secret@127.0.0.1:1/db";
  const started = performance.now();
  let error: unknown;
  try {
    const store = await openMongoRegisterStore(url, { serverSelectionTimeoutMs: 300 });
    await store.close();
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof AppError, String(error));
  assert.equal(error.code, "unavailable");
  assert.match(error.message, /^Register store \(MongoDB\) failed: /);
  assert.match(error.message, /mongodb:\/\/127\.0\.0\.1:1\/db/);
  assert.ok(!error.message.includes("secret"), error.message);
  assert.ok(!error.message.includes("user:"), error.message);
  assert.ok(performance.now() - started < 5_000, "opening gives up after the selection timeout");
});

Deno.test("mongodb register store: the database comes from the URL's path, when it has one", () => {
  assert.equal(databaseFromUrl("mongodb://127.0.0.1:27017/ledgers?authSource=admin"), "ledgers");
  assert.equal(databaseFromUrl("mongodb://u:p@a:1,b:2/ledgers"), "ledgers");
  assert.equal(databaseFromUrl("mongodb+srv://cluster.example.com/my%20db"), "my db");
  assert.equal(databaseFromUrl("mongodb://127.0.0.1:27017/"), undefined);
  assert.equal(databaseFromUrl("mongodb://127.0.0.1:27017"), undefined);
  assert.equal(databaseFromUrl("mongodb://127.0.0.1:27017/?replicaSet=rs0"), undefined);
});

Deno.test("mongodb register store: redactUrl drops the user name and password", () => {
  assert.equal(
    redactUrl("mongodb://user:p%40ss@a:1,b:2/db?tls=true"),
    "mongodb://a:1,b:2/db",
  );
  assert.equal(
    redactUrl("mongodb+srv://u@cluster.example.com"),
    "mongodb+srv://cluster.example.com",
  );
  assert.equal(redactUrl("mongodb://127.0.0.1:27017/db"), "mongodb://127.0.0.1:27017/db");
});
