/**
 * The contract every system-register store meets, run against each adapter.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type BlueprintEntry,
  type PublishInput,
  type SystemRegisterStore,
  validateIntegrity,
} from "../../hub/system_register/mod.ts";

/** Opens a fresh, empty store; the suite closes it. */
export type OpenStore = () => Promise<SystemRegisterStore>;

const encoder = new TextEncoder();

/** A publication of `blueprintId` with a small JSON document. */
export function publication(blueprintId: string, n = 0): PublishInput {
  return {
    blueprintId,
    document: encoder.encode(JSON.stringify({ id: blueprintId, n })),
    publishedAt: 1_780_000_000_000 + n,
    publishedBy: "tester",
    metadata: { n: String(n) },
    publicationTransactionId: `tx-${blueprintId}-${n}`,
  };
}

async function all(iterable: AsyncIterable<BlueprintEntry>): Promise<BlueprintEntry[]> {
  const out: BlueprintEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

/** Registers the contract tests for one adapter. */
export function systemRegisterContract(
  name: string,
  open: OpenStore,
  options: { ignore?: boolean } = {},
): void {
  const test = (title: string, fn: (store: SystemRegisterStore) => Promise<void>) =>
    Deno.test({
      name: `${name}: ${title}`,
      ignore: options.ignore ?? false,
      fn: async () => {
        const store = await open();
        try {
          await fn(store);
        } finally {
          await store.close();
        }
      },
    });

  test("versions form one strictly increasing sequence from 1 across blueprints", async (store) => {
    assert.deepEqual(await store.head(), {
      version: 0,
      entryCount: 0,
      activeCount: 0,
      lastPublishedAt: undefined,
    });
    assert.equal(await store.currentVersion(), 0);
    const versions = [];
    for (const id of ["a", "b", "a", "c"]) {
      versions.push((await store.publish(publication(id, versions.length))).entry.version);
    }
    assert.deepEqual(versions, [1, 2, 3, 4]);
    assert.deepEqual(await store.head(), {
      version: 4,
      entryCount: 4,
      activeCount: 3,
      lastPublishedAt: 1_780_000_000_003,
    });
    assert.equal(await store.currentVersion(), 4);
  });

  test("re-publishing a blueprint makes a new active version and retires the old", async (store) => {
    await store.publish(publication("a", 1));
    const again = await store.publish(publication("a", 2));
    assert.equal(again.replaced, true);
    assert.equal((await store.latest("a"))?.version, 2);
    const entries = await all(store.entries());
    assert.deepEqual(entries.map((e) => [e.version, e.isActive]), [[1, false], [2, true]]);
    assert.deepEqual((await all(store.entries({ activeOnly: true }))).map((e) => e.version), [2]);
  });

  test("an entry keeps its document bytes, checksum, publisher and metadata", async (store) => {
    const input = publication("doc", 7);
    const { entry } = await store.publish(input);
    const [read] = await all(store.entries());
    assert.deepEqual(read, entry);
    assert.deepEqual(read!.document, input.document);
    assert.match(read!.checksum, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(read!.metadata, { n: "7" });
  });

  test("entries after a version, with a limit, read page by page in version order", async (store) => {
    for (let n = 0; n < 25; n++) await store.publish(publication(`bp-${n}`, n));
    const after = await all(store.entries({ afterVersion: 10, pageSize: 4 }));
    assert.deepEqual(after.map((e) => e.version), Array.from({ length: 15 }, (_, i) => i + 11));
    const limited = await all(store.entries({ afterVersion: 3, limit: 5, pageSize: 2 }));
    assert.deepEqual(limited.map((e) => e.version), [4, 5, 6, 7, 8]);
    assert.deepEqual(await all(store.entries({ afterVersion: 25 })), []);
  });

  test("publishing if absent stores the blueprint once", async (store) => {
    const first = await store.publish(publication("genesis", 1), { ifAbsent: true });
    const second = await store.publish(publication("genesis", 2), { ifAbsent: true });
    assert.deepEqual([first.created, second.created], [true, false]);
    assert.equal(second.entry.version, first.entry.version);
    assert.equal((await store.head()).entryCount, 1);
  });

  test("publishing if changed stores nothing when the active entry is the same publication", async (store) => {
    const base = { ...publication("a", 1), metadata: { n: "1", team: "red" } };
    const first = await store.publish(base, { ifChanged: true });
    const retried = {
      ...base,
      publishedAt: base.publishedAt + 60_000,
      publicationTransactionId: "tx-retry",
    };
    const same = await store.publish(retried, { ifChanged: true });
    assert.deepEqual([first.created, same.created, same.replaced], [true, false, false]);
    assert.deepEqual(same.entry, first.entry, "the active entry, as it was stored");
    const reordered = { ...retried, metadata: { team: "red", n: "1" } };
    assert.equal((await store.publish(reordered, { ifChanged: true })).created, false, "order");
    assert.equal((await store.head()).entryCount, 1);

    // Each step differs from the active entry in one thing only.
    const document = { ...retried, document: encoder.encode(JSON.stringify({ id: "a", n: 2 })) };
    const publisher = { ...document, publishedBy: "someone else" };
    const metadata = { ...publisher, metadata: { n: "1" } };
    for (const [n, change] of [document, publisher, metadata].entries()) {
      const result = await store.publish(change, { ifChanged: true });
      assert.deepEqual([result.created, result.entry.version], [true, n + 2], `step ${n}`);
    }
    assert.equal((await store.publish(metadata, { ifChanged: true })).created, false);
    const older = await store.publish(base, { ifChanged: true });
    assert.equal(older.created, true, "the same as an older, inactive version is a change");
    assert.equal((await store.head()).entryCount, 5);
  });

  test("the stored chain validates", async (store) => {
    for (let n = 0; n < 10; n++) await store.publish(publication(`bp-${n % 3}`, n));
    const report = await validateIntegrity(store.entries());
    assert.equal(report.ok, true);
    assert.equal(report.entries, 10);
  });
}
