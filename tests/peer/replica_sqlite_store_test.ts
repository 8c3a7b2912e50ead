import assert from "node:assert/strict";
import { openReplicaStore, REPLICA_SQLITE_FILE_NAME } from "../../peer/replica/mod.ts";
import {
  openSqliteReplicaStore,
  type SqliteReplicaStore,
} from "../../peer/replica/sqlite_store.ts";
import { tempDir } from "../fixtures/wait.ts";
import { assertCrashAtomicity } from "./replica_crash_harness.ts";
import { appError, assertReplica, describeReplicaStoreContract } from "./replica_store_contract.ts";
import { binaryDocument, checkpointOf, sampleEntry, withDocument } from "./replica_samples.ts";

describeReplicaStoreContract("sqlite replica store", async () => {
  const dir = await tempDir("sqlite-replica-");
  const path = `${dir.path}/nested/${REPLICA_SQLITE_FILE_NAME}`;
  const store = openSqliteReplicaStore(path);
  return {
    store,
    reopen: () => Promise.resolve(openSqliteReplicaStore(path)),
    async [Symbol.asyncDispose]() {
      await store.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}, { persistent: true });

/** Two stores on one file (a writer and a reader, as the hub link and the HTTP API are). */
async function writerAndReader(): Promise<
  { writer: SqliteReplicaStore; reader: SqliteReplicaStore } & AsyncDisposable
> {
  const dir = await tempDir("sqlite-replica-");
  const path = `${dir.path}/${REPLICA_SQLITE_FILE_NAME}`;
  const writer = openSqliteReplicaStore(path);
  const reader = openSqliteReplicaStore(path);
  return {
    writer,
    reader,
    async [Symbol.asyncDispose]() {
      await reader.close();
      await writer.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

Deno.test("sqlite replica store: a reader on the same file sees the old replica until the writer commits", async () => {
  await using fx = await writerAndReader();
  const before = [sampleEntry(1), sampleEntry(2)];
  await fx.writer.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
  await assertReplica(fx.reader, before);
  const after = Array.from(
    { length: 2_500 },
    (_, i) => withDocument(sampleEntry(i, { version: 100 + i }), binaryDocument(200, i)),
  );
  await using replacement = await fx.writer.replace();
  for (let i = 0; i < after.length; i += 600) {
    await replacement.add(after.slice(i, i + 600));
    // Parts of it are in the file by now (written 1,000 at a time), but not in the replica.
    await assertReplica(fx.reader, before);
  }
  await replacement.commit(checkpointOf(after));
  await assertReplica(fx.reader, after);
  const changed = [...after.slice(1), sampleEntry(5_000, { version: 9_000 })];
  await fx.writer.apply({
    upsert: [sampleEntry(5_000, { version: 9_000 })],
    remove: ["bp-0"],
    checkpoint: checkpointOf(changed),
  });
  await assertReplica(fx.reader, changed);
});

Deno.test("sqlite replica store: the reader's view stays whole while the writer replaces and applies", async () => {
  await using fx = await writerAndReader();
  const states = [0, 1, 2, 3].map((generation) =>
    Array.from({ length: 500 }, (_, i) => sampleEntry(i, { version: generation * 1_000 + i + 1 }))
  );
  for (const [g, entries] of states.entries()) {
    await using replacement = await fx.writer.replace();
    for (let i = 0; i < entries.length; i += 100) {
      await replacement.add(entries.slice(i, i + 100));
      const seen = await fx.reader.index();
      const checkpoint = await fx.reader.checkpoint();
      // Between the writer's steps: the previous state, whole.
      assert.equal(seen.length, g === 0 ? 0 : 500);
      assert.equal(checkpoint?.version, g === 0 ? undefined : g * 1_000 - 500);
    }
    await replacement.commit(checkpointOf(entries));
    await assertReplica(fx.reader, entries);
  }
});

Deno.test("sqlite replica store: two blueprints given one version are refused and nothing changes", async () => {
  await using fx = await writerAndReader();
  const entries = [sampleEntry(1), sampleEntry(2)];
  await fx.writer.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
  await assert.rejects(
    fx.writer.apply({
      upsert: [sampleEntry(3), sampleEntry(4, { version: sampleEntry(1).version })],
      remove: [],
      checkpoint: checkpointOf([]),
    }),
    appError("failed_precondition"),
  );
  await assertReplica(fx.reader, entries);
});

Deno.test("sqlite replica store: openReplicaStore without a Redis URL opens SQLite in the data directory", async () => {
  await using dir = await tempDir("sqlite-replica-");
  const store = openReplicaStore({ dataDir: `${dir.path}/data` });
  try {
    assert.equal(store.kind, "sqlite");
    assert.ok((await Deno.stat(`${dir.path}/data/system-register-replica.db`)).isFile);
    assert.equal(await store.checkpoint(), undefined);
  } finally {
    await store.close();
  }
});

Deno.test("sqlite replica store: a writer killed at any moment leaves a checkpoint and exactly the entries it describes", async () => {
  await using dir = await tempDir("sqlite-replica-crash-");
  const path = `${dir.path}/${REPLICA_SQLITE_FILE_NAME}`;
  await assertCrashAtomicity({
    writerArgs: ["sqlite", path],
    open: () => Promise.resolve(openSqliteReplicaStore(path)),
  });
});
