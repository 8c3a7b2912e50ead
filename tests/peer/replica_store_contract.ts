/**
 * The behaviour every {@link ReplicaStore} adapter shares, as one suite each
 * adapter's test file runs with its own fixture.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AppError, type ErrorCode } from "../../shared/errors.ts";
import type { ReplicaCheckpoint, ReplicaEntry, ReplicaStore } from "../../peer/replica/types.ts";
import {
  binaryDocument,
  byVersion,
  checkpointOf,
  indexOf,
  sampleEntry,
  withDocument,
  withheld,
} from "./replica_samples.ts";

/** A store opened for one test, and how to release it. */
export interface ReplicaStoreFixture {
  /** The store under test. */
  store: ReplicaStore;
  /** Opens another store on the same data (stores that persist); the test closes it. */
  reopen?: () => Promise<ReplicaStore>;
  /** Closes the store and releases what the fixture started. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Everything above version 0, as one page. */
const ALL = { afterVersion: 0, limit: 100_000 };

/** A rejection check: an {@link AppError} with `code`. */
export function appError(code: ErrorCode): (error: unknown) => true {
  return (error) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

/**
 * Asserts the store holds exactly `entries` (in every read) with their checkpoint
 * (`checkpointOf(entries)` unless `options.checkpoint` gives another).
 */
export async function assertReplica(
  store: ReplicaStore,
  entries: readonly ReplicaEntry[],
  options: { checkpoint?: ReplicaCheckpoint } = {},
): Promise<void> {
  const checkpoint = options.checkpoint ?? checkpointOf(entries);
  assert.deepEqual(await store.checkpoint(), checkpoint);
  assert.deepEqual(await store.index(), indexOf(entries));
  assert.deepEqual(await store.list(ALL), byVersion(entries));
}

/** Registers the shared replica store tests, named `{name}: ...`, opening a fresh store for each. */
export function describeReplicaStoreContract(
  name: string,
  open: () => Promise<ReplicaStoreFixture>,
  options: { persistent?: boolean } = {},
): void {
  const test = (
    title: string,
    fn: (fixture: ReplicaStoreFixture) => Promise<void>,
    needs: { persistent?: boolean } = {},
  ): void => {
    // A test the store cannot take is listed as skipped, saying why.
    const skipped = needs.persistent && !options.persistent;
    Deno.test({
      name: `${name}: ${title}${
        skipped ? " (skipped: this store keeps nothing across a reopen)" : ""
      }`,
      ignore: skipped,
      async fn() {
        await using fixture = await open();
        await fn(fixture);
      },
    });
  };

  test("an empty store has no checkpoint and an empty index and list", async ({ store }) => {
    assert.equal(await store.checkpoint(), undefined);
    assert.deepEqual(await store.index(), []);
    assert.deepEqual(await store.list(ALL), []);
    assert.equal(await store.get("bp-1"), undefined);
  });

  test("apply stores upserts and removals with their checkpoint", async ({ store }) => {
    const first = [sampleEntry(1), sampleEntry(2), sampleEntry(3)];
    await store.apply({ upsert: first, remove: [], checkpoint: checkpointOf(first) });
    await assertReplica(store, first);
    const second = [sampleEntry(1), sampleEntry(3), sampleEntry(4)];
    await store.apply({
      upsert: [sampleEntry(4)],
      remove: ["bp-2", "bp-never-there"],
      checkpoint: checkpointOf(second, { lastSyncKind: "incremental" }),
    });
    await assertReplica(store, second, {
      checkpoint: checkpointOf(second, { lastSyncKind: "incremental" }),
    });
  });

  test("an upsert replaces its blueprint's entry, its old version gone from list and index", async ({ store }) => {
    const old = [sampleEntry(1), sampleEntry(2)];
    await store.apply({ upsert: old, remove: [], checkpoint: checkpointOf(old) });
    const newer = withDocument(sampleEntry(1, { version: 10 }), binaryDocument(50, 7));
    const now = [sampleEntry(2), newer];
    await store.apply({ upsert: [newer], remove: [], checkpoint: checkpointOf(now) });
    assert.deepEqual(await store.checkpoint(), checkpointOf(now));
    assert.deepEqual(await store.index(), indexOf([sampleEntry(2), newer]));
    assert.deepEqual(await store.list(ALL), [sampleEntry(2), newer]);
    assert.deepEqual(await store.list({ afterVersion: 1, limit: 10 }), [sampleEntry(2), newer]);
    assert.deepEqual(await store.get("bp-1"), newer);
  });

  test("a blueprint both upserted and removed in one change ends up removed", async ({ store }) => {
    await store.apply({
      upsert: [sampleEntry(1), sampleEntry(2)],
      remove: ["bp-1"],
      checkpoint: checkpointOf([sampleEntry(2)]),
    });
    await assertReplica(store, [sampleEntry(2)]);
  });

  test("the last of several upserts of one blueprint in a change wins", async ({ store }) => {
    const last = withheld(sampleEntry(1, { version: 30 }));
    const upsert = [
      sampleEntry(1),
      withDocument(sampleEntry(1, { version: 20 }), binaryDocument(9)),
      last,
    ];
    await store.apply({ upsert, remove: [], checkpoint: checkpointOf([last]) });
    await assertReplica(store, [last]);
  });

  test("list returns entries in version order above afterVersion, at most limit", async ({ store }) => {
    // Versions deliberately not in blueprint order.
    const entries = [5, 1, 9, 3, 7].map((n) => sampleEntry(n, { version: 100 - n * 10 }));
    await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
    const ordered = byVersion(entries);
    assert.deepEqual(ordered.map((e) => e.version), [10, 30, 50, 70, 90]);
    assert.deepEqual(await store.list({ afterVersion: 0, limit: 2 }), ordered.slice(0, 2));
    assert.deepEqual(await store.list({ afterVersion: 30, limit: 2 }), ordered.slice(2, 4));
    assert.deepEqual(await store.list({ afterVersion: 29, limit: 10 }), ordered.slice(1));
    assert.deepEqual(await store.list({ afterVersion: 90, limit: 10 }), []);
    assert.deepEqual(await store.list({ afterVersion: 0, limit: 0 }), []);
  });

  test("list refuses a negative limit or afterVersion with invalid_argument", async ({ store }) => {
    await assert.rejects(store.list({ afterVersion: 0, limit: -1 }), appError("invalid_argument"));
    await assert.rejects(store.list({ afterVersion: -1, limit: 1 }), appError("invalid_argument"));
    await assert.rejects(store.list({ afterVersion: 0, limit: 1.5 }), appError("invalid_argument"));
  });

  test("get returns a blueprint's entry with every field, and undefined for an unknown one", async ({ store }) => {
    const entry = sampleEntry(42);
    await store.apply({ upsert: [entry], remove: [], checkpoint: checkpointOf([entry]) });
    assert.deepEqual(await store.get("bp-42"), entry);
    assert.equal(await store.get("bp-43"), undefined);
  });

  test("a withheld document comes back undefined with its documentSize kept", async ({ store }) => {
    const big = withheld(withDocument(sampleEntry(1), binaryDocument(20_000, 1)));
    const small = sampleEntry(2);
    await store.apply({ upsert: [big, small], remove: [], checkpoint: checkpointOf([big, small]) });
    const read = await store.get("bp-1");
    assert.equal(read?.document, undefined);
    assert.equal(read?.documentSize, 20_000);
    assert.deepEqual(read, big);
    assert.deepEqual(await store.list(ALL), [big, small]);
    // Withheld after having had a document, and the other way round.
    const now = [withheld(sampleEntry(2, { version: 5 })), sampleEntry(1, { version: 6 })];
    await store.apply({ upsert: now, remove: [], checkpoint: checkpointOf(now) });
    await assertReplica(store, now);
  });

  test("documents come back byte for byte: bytes that are not UTF-8, every byte value, and empty", async ({ store }) => {
    const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
    const entries = [
      withDocument(
        sampleEntry(1),
        new Uint8Array([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x0d, 0x0a]),
      ),
      withDocument(sampleEntry(2), everyByte),
      withDocument(sampleEntry(3), new Uint8Array(0)),
      withDocument(sampleEntry(4), binaryDocument(70_000, 3)),
    ];
    await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
    await assertReplica(store, entries);
    const empty = await store.get("bp-3");
    assert.ok(empty?.document instanceof Uint8Array, "an empty document is not a withheld one");
    assert.equal(empty.document.byteLength, 0);
  });

  test("metadata round-trips, also empty, with unusual keys and non-ASCII labels", async ({ store }) => {
    const entries = [
      sampleEntry(1, { metadata: {} }),
      sampleEntry(2, { metadata: { "": "empty key", "a.b:c": "ü ✓ 中", ["__proto__"]: "x" } }),
      sampleEntry(3, { metadata: { quote: '"\\\n\u0000' } }),
    ];
    await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
    await assertReplica(store, entries);
    assert.equal(Object.getPrototypeOf((await store.get("bp-2"))?.metadata), Object.prototype);
  });

  test("blueprint ids of any characters round-trip, up to 255 of them", async ({ store }) => {
    const ids = ["__proto__", "constructor", "a b:c/d\\e", "ü-✓-中", "x".repeat(255), "0"];
    const entries = ids.map((blueprintId, i) => sampleEntry(i, { blueprintId }));
    await store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
    await assertReplica(store, entries);
    for (const entry of entries) assert.deepEqual(await store.get(entry.blueprintId), entry);
    await store.apply({
      upsert: [],
      remove: ["__proto__", "constructor"],
      checkpoint: checkpointOf(entries.slice(2)),
    });
    await assertReplica(store, entries.slice(2));
  });

  test("changing an entry after storing it, or one read back, changes nothing stored", async ({ store }) => {
    const entry = sampleEntry(1);
    const expected = sampleEntry(1);
    await store.apply({ upsert: [entry], remove: [], checkpoint: checkpointOf([entry]) });
    entry.document?.fill(0);
    entry.metadata.category = "changed";
    const read = await store.get("bp-1");
    assert.ok(read?.document);
    read.document.fill(1);
    read.metadata.category = "changed too";
    assert.deepEqual(await store.get("bp-1"), expected);
  });

  test("a replacement is not visible until its commit, which swaps the whole replica and its checkpoint", async ({ store }) => {
    const before = [sampleEntry(1), sampleEntry(2), sampleEntry(3)];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    const after = [sampleEntry(3, { version: 13 }), sampleEntry(4), sampleEntry(5)];
    await using replacement = await store.replace();
    await replacement.add(after.slice(0, 2));
    await assertReplica(store, before);
    assert.deepEqual(await store.get("bp-4"), undefined);
    await replacement.add(after.slice(2));
    await assertReplica(store, before);
    await replacement.commit(checkpointOf(after));
    await assertReplica(store, after);
    assert.equal(await store.get("bp-1"), undefined);
  });

  test("an aborted replacement leaves the old replica as it was, and cannot be committed", async ({ store }) => {
    const before = [sampleEntry(1), sampleEntry(2)];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    const replacement = await store.replace();
    await replacement.add([sampleEntry(7), sampleEntry(8)]);
    await replacement.abort();
    await assertReplica(store, before);
    await assert.rejects(replacement.commit(checkpointOf([])), appError("failed_precondition"));
    await assert.rejects(replacement.add([sampleEntry(9)]), appError("failed_precondition"));
    await replacement.abort();
    await assertReplica(store, before);
  });

  test("a second replacement drops an unfinished one, whose later calls fail", async ({ store }) => {
    const before = [sampleEntry(1)];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    const first = await store.replace();
    await first.add([sampleEntry(10), sampleEntry(11)]);
    const second = await store.replace();
    await assert.rejects(first.add([sampleEntry(12)]), appError("failed_precondition"));
    await assert.rejects(first.commit(checkpointOf([])), appError("failed_precondition"));
    await first.abort(); // does nothing to the second one's entries
    await second.add([sampleEntry(20)]);
    await assertReplica(store, before);
    await second.commit(checkpointOf([sampleEntry(20)]));
    await assertReplica(store, [sampleEntry(20)]);
  });

  test("disposing an uncommitted replacement with await using aborts it", async ({ store }) => {
    const before = [sampleEntry(1)];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    {
      await using replacement = await store.replace();
      await replacement.add([sampleEntry(2), sampleEntry(3)]);
    }
    await assertReplica(store, before);
    {
      await using replacement = await store.replace();
      await replacement.add([sampleEntry(4)]);
      await replacement.commit(checkpointOf([sampleEntry(4)]));
    }
    await assertReplica(store, [sampleEntry(4)]);
    // The next replacement starts from nothing of the aborted one.
    await using next = await store.replace();
    await next.add([sampleEntry(5)]);
    await next.commit(checkpointOf([sampleEntry(5)]));
    await assertReplica(store, [sampleEntry(5)]);
  });

  test("a replacement committed without entries empties the replica", async ({ store }) => {
    const before = [sampleEntry(1), withheld(sampleEntry(2))];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    await using replacement = await store.replace();
    await replacement.commit(checkpointOf([]));
    await assertReplica(store, []);
  });

  test("a replacement keeps the last entry added for a blueprint, with or without its document", async ({ store }) => {
    await using replacement = await store.replace();
    await replacement.add([sampleEntry(1), sampleEntry(2)]);
    await replacement.add([withheld(sampleEntry(1, { version: 10 }))]);
    await replacement.add([sampleEntry(2, { version: 11 }), withheld(sampleEntry(3))]);
    const expected = [
      withheld(sampleEntry(1, { version: 10 })),
      sampleEntry(2, { version: 11 }),
      withheld(sampleEntry(3)),
    ];
    await replacement.commit(checkpointOf(expected));
    await assertReplica(store, expected);
  });

  test("a replacement of only withheld documents leaves no document behind", async ({ store }) => {
    const before = [sampleEntry(1), sampleEntry(2)];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    const after = [
      withheld(sampleEntry(1, { version: 5 })),
      withheld(sampleEntry(2, { version: 6 })),
    ];
    await using replacement = await store.replace();
    await replacement.add(after);
    await replacement.commit(checkpointOf(after));
    await assertReplica(store, after);
  });

  test("apply during a replacement changes the live replica until the commit replaces it", async ({ store }) => {
    const before = [sampleEntry(1)];
    await store.apply({ upsert: before, remove: [], checkpoint: checkpointOf(before) });
    await using replacement = await store.replace();
    await replacement.add([sampleEntry(10)]);
    const changed = [sampleEntry(1), sampleEntry(2)];
    await store.apply({ upsert: [sampleEntry(2)], remove: [], checkpoint: checkpointOf(changed) });
    await assertReplica(store, changed);
    await replacement.commit(checkpointOf([sampleEntry(10)]));
    await assertReplica(store, [sampleEntry(10)]);
  });

  test("a replacement of 10,000 entries of 1 KiB commits them all", async ({ store }) => {
    await store.apply({
      upsert: [sampleEntry(1)],
      remove: [],
      checkpoint: checkpointOf([sampleEntry(1)]),
    });
    const entries = Array.from(
      { length: 10_000 },
      (_, i) => withDocument(sampleEntry(i, { version: 1_000 + i }), binaryDocument(1024, i)),
    );
    const checkpoint = checkpointOf(entries);
    await using replacement = await store.replace();
    for (let i = 0; i < entries.length; i += 500) await replacement.add(entries.slice(i, i + 500));
    await replacement.commit(checkpoint);
    assert.deepEqual(await store.checkpoint(), checkpoint);
    const index = await store.index();
    assert.equal(index.length, 10_000);
    assert.deepEqual(index, indexOf(entries));
    assert.deepEqual(await store.get("bp-9999"), entries[9_999]);
    assert.deepEqual(
      await store.list({ afterVersion: 5_000, limit: 3 }),
      entries.slice(4_001, 4_004),
    );
  });

  test("an entry whose document does not have documentSize bytes is refused with invalid_argument", async ({ store }) => {
    const bad = { ...sampleEntry(1), documentSize: 3 };
    await assert.rejects(
      store.apply({ upsert: [bad], remove: [], checkpoint: checkpointOf([]) }),
      appError("invalid_argument"),
    );
    assert.equal(await store.checkpoint(), undefined);
    const replacement = await store.replace();
    await assert.rejects(replacement.add([bad]), appError("invalid_argument"));
    await assert.rejects(replacement.commit(checkpointOf([])), appError("failed_precondition"));
    await replacement.abort();
  });

  test(
    "the replica and its checkpoint survive reopening the store",
    async (fixture) => {
      const entries = [
        sampleEntry(1),
        withheld(sampleEntry(2)),
        withDocument(sampleEntry(3), binaryDocument(300)),
      ];
      await fixture.store.apply({ upsert: entries, remove: [], checkpoint: checkpointOf(entries) });
      await fixture.store.close();
      const reopened = await fixture.reopen!();
      try {
        await assertReplica(reopened, entries);
      } finally {
        await reopened.close();
      }
    },
    { persistent: true },
  );

  test("calls after close fail with an unavailable AppError", async ({ store }) => {
    const replacement = await store.replace();
    await store.close();
    await assert.rejects(store.checkpoint(), appError("unavailable"));
    await assert.rejects(store.index(), appError("unavailable"));
    await assert.rejects(store.get("bp-1"), appError("unavailable"));
    await assert.rejects(store.list(ALL), appError("unavailable"));
    await assert.rejects(
      store.apply({ upsert: [], remove: [], checkpoint: checkpointOf([]) }),
      appError("unavailable"),
    );
    await assert.rejects(store.replace(), appError("unavailable"));
    await assert.rejects(replacement.add([sampleEntry(1)]));
    await replacement.abort();
    await store.close();
  });
}
