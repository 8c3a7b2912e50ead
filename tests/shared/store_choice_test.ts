import assert from "node:assert/strict";
import { openChosenStore, type StoreOpeners } from "../../shared/store_choice.ts";

/** Openers that say which store they opened, and where. */
const openers: StoreOpeners<string> = {
  mongo: (url) => Promise.resolve(`mongo ${url}`),
  sqlite: (dataDir) => `sqlite ${dataDir}`,
};

Deno.test("a service opens MongoDB when a URL is set, and SQLite in its data directory otherwise", async () => {
  assert.equal(
    await openChosenStore({ mongodbUrl: "mongodb://db.test/app", dataDir: "/data" }, openers),
    "mongo mongodb://db.test/app",
  );
  assert.equal(await openChosenStore({ dataDir: "/data" }, openers), "sqlite /data");
  assert.equal(
    await openChosenStore({ mongodbUrl: undefined, dataDir: "/data" }, openers),
    "sqlite /data",
  );
  assert.equal(
    await openChosenStore({ mongodbUrl: "", dataDir: "/data" }, openers),
    "sqlite /data",
  );
});

Deno.test("a store that cannot open fails the choice with its own error", async () => {
  await assert.rejects(
    openChosenStore({ mongodbUrl: "mongodb://db.test", dataDir: "/data" }, {
      ...openers,
      mongo: () => Promise.reject(new Error("no server answers")),
    }),
    /no server answers/,
  );
});
