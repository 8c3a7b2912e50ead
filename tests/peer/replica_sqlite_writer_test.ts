import assert from "node:assert/strict";
import { REPLICA_SQLITE_FILE_NAME } from "../../peer/replica/mod.ts";
import { openSqliteReplicaStore } from "../../peer/replica/sqlite_store.ts";
import { tempDir } from "../fixtures/wait.ts";
import { appError, assertReplica } from "./replica_store_contract.ts";
import { binaryDocument, checkpointOf, sampleEntry, withDocument } from "./replica_samples.ts";

const FAILING_WRITER = new URL("./replica_failing_writer.ts", import.meta.url);

Deno.test("sqlite replica store: a writer that dies fails its replacement with unavailable, the old replica stays, and the next replacement gets a new writer", async () => {
  await using dir = await tempDir("sqlite-replica-writer-");
  const path = `${dir.path}/${REPLICA_SQLITE_FILE_NAME}`;
  const store = openSqliteReplicaStore(path, { writerModule: FAILING_WRITER });
  try {
    const before = [sampleEntry(1), sampleEntry(2)];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    const after = Array.from(
      { length: 50 },
      (_, i) => withDocument(sampleEntry(i, { version: 100 + i }), binaryDocument(100, i)),
    );
    {
      await using replacement = await store.replace();
      await assert.rejects(
        (async () => {
          await replacement.add(after);
          await replacement.commit(checkpointOf(after));
        })(),
        (error) => appError("unavailable")(error) && /replica writer stopped/.test(String(error)),
      );
    }
    await assertReplica(store, before);
    {
      await using replacement = await store.replace();
      await replacement.add(after);
      await replacement.commit(checkpointOf(after));
    }
    await assertReplica(store, after);
  } finally {
    await store.close();
  }
});

Deno.test("sqlite replica store: a writer started with the store writes its first replacement, and closing ends it", async () => {
  await using dir = await tempDir("sqlite-replica-writer-");
  const path = `${dir.path}/${REPLICA_SQLITE_FILE_NAME}`;
  const store = openSqliteReplicaStore(path, { startWriter: true });
  const reader = openSqliteReplicaStore(path);
  try {
    const entries = Array.from({ length: 3_000 }, (_, i) => sampleEntry(i));
    await using replacement = await store.replace();
    for (let i = 0; i < entries.length; i += 700) await replacement.add(entries.slice(i, i + 700));
    assert.equal(await reader.checkpoint(), undefined); // not before the commit
    assert.deepEqual(await reader.index(), []);
    await replacement.commit(checkpointOf(entries));
    await assertReplica(reader, entries);
  } finally {
    await reader.close();
    await store.close();
  }
  await assert.rejects(store.replace(), appError("unavailable"));
});
