import assert from "node:assert/strict";
import { MemoryReplicaStore } from "../../peer/replica/memory_store.ts";
import { appError, assertReplica, describeReplicaStoreContract } from "./replica_store_contract.ts";
import { checkpointOf, sampleEntry } from "./replica_samples.ts";

describeReplicaStoreContract("memory replica store", () => {
  const store = new MemoryReplicaStore();
  return Promise.resolve({ store, [Symbol.asyncDispose]: () => store.close() });
});

Deno.test("memory replica store: an unreachable store fails every call with unavailable, then works again", async () => {
  await using store = disposable(new MemoryReplicaStore());
  const entries = [sampleEntry(1)];
  await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
  store.setReachable(false);
  await assert.rejects(store.checkpoint(), appError("unavailable"));
  await assert.rejects(store.list({ afterVersion: 0, limit: 1 }), appError("unavailable"));
  await assert.rejects(store.replace(), appError("unavailable"));
  store.setReachable(true);
  await assertReplica(store, entries);
});

Deno.test("memory replica store: two blueprints given one version are refused and nothing changes", async () => {
  await using store = disposable(new MemoryReplicaStore());
  const entries = [sampleEntry(1), sampleEntry(2)];
  await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
  await assert.rejects(
    store.apply({
      upsert: [sampleEntry(3, { version: sampleEntry(1).version })],
      remove: [],
      checkpoint: checkpointOf([]),
    }),
    appError("failed_precondition"),
  );
  await assertReplica(store, entries);
});

/** The store, closed on dispose. */
function disposable(store: MemoryReplicaStore): MemoryReplicaStore & AsyncDisposable {
  return Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
}
