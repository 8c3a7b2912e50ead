/**
 * The sync streams' memory: the active versions (each blueprint's highest)
 * and the encoded-entry cache (budget, eviction, cache and store mixed,
 * never a silent gap).
 */
import assert from "node:assert/strict";
import { EntryCache } from "../../hub/grpc/entry_cache.ts";
import { entryBytes } from "../../hub/grpc/encoding.ts";
import { ActiveVersions } from "../../hub/system_register/active_versions.ts";
import type { BlueprintEntry, EntriesOptions } from "../../hub/system_register/types.ts";

function entry(version: number, blueprintId = `bp-${version}`): BlueprintEntry {
  return {
    blueprintId,
    document: new TextEncoder().encode(`{"n":${version}}`),
    publishedAt: 1_700_000_000_000 + version,
    publishedBy: "tester",
    version,
    isActive: true,
    publicationTransactionId: `tx-${version}`,
    checksum: `sha256:${version}`,
    metadata: {},
    chainHash: `sha256:chain-${version}`,
  };
}

/** A store's `entries()` over `all`, counting the entries it hands out. */
function reader(all: BlueprintEntry[]) {
  const calls: EntriesOptions[] = [];
  let handed = 0;
  return {
    calls,
    get handed() {
      return handed;
    },
    async *read(options: EntriesOptions): AsyncIterable<BlueprintEntry> {
      calls.push(options);
      let left = options.limit ?? Number.POSITIVE_INFINITY;
      for (const e of all) {
        if (e.version <= (options.afterVersion ?? 0) || left-- <= 0) continue;
        handed++;
        yield await Promise.resolve(e);
      }
    },
  };
}

Deno.test("active versions keep each blueprint's highest version, in order", () => {
  const active = new ActiveVersions();
  active.add("a", 1);
  active.add("b", 2);
  active.add("c", 3);
  active.add("a", 4); // supersedes 1
  active.add("b", 2); // seen again: nothing changes
  assert.deepEqual(active.after(0), [2, 3, 4]);
  assert.deepEqual(active.after(2), [3, 4]);
  assert.deepEqual(active.after(0, 2), [2, 3]);
  assert.deepEqual(active.after(4), []);
  assert.equal(active.size, 3);
  assert.ok(active.has("a") && !active.has("z"));
});

Deno.test("the entry cache serves what it holds and reads each run of the others from the store once", async () => {
  const all = [1, 2, 3, 4, 5, 6].map((v) => entry(v));
  const cache = new EntryCache(1024 * 1024);
  cache.put(3, { bytes: entryBytes(all[2]!), documentBytes: all[2]!.document.byteLength });
  const store = reader(all);
  const got = [];
  for await (const e of cache.entries([1, 2, 3, 5, 6], (o) => store.read(o))) got.push(e);
  assert.deepEqual(got.map((e) => e.version), [1, 2, 3, 5, 6]);
  assert.deepEqual(got.map((e) => e.bytes), [1, 2, 3, 5, 6].map((v) => entryBytes(all[v - 1]!)));
  assert.deepEqual(store.calls.map((c) => [c.afterVersion, c.limit]), [[0, 2], [4, 2]]);
  assert.equal(cache.size, 5);

  const again = reader(all);
  for await (const _ of cache.entries([1, 2, 3, 5, 6], (o) => again.read(o))) { /* drain */ }
  assert.equal(again.handed, 0, "all from memory the second time");
});

Deno.test("the entry cache evicts its oldest entries beyond its budget, and a budget of 0 keeps nothing", () => {
  const bytes = (n: number) => ({ bytes: new Uint8Array(n), documentBytes: n });
  const cache = new EntryCache(100);
  cache.put(1, bytes(40));
  cache.put(2, bytes(40));
  cache.put(3, bytes(40)); // 1 goes
  assert.equal(cache.get(1), undefined);
  assert.ok(cache.get(2) && cache.get(3));
  assert.equal(cache.bytes, 80);
  cache.put(4, bytes(200)); // larger than the budget: not kept, nothing evicted
  assert.equal(cache.size, 2);

  const none = new EntryCache(0);
  none.put(1, bytes(1));
  assert.equal(none.size, 0);
});

Deno.test("an entry missing from the store ends the entries with an error, not a short stream", async () => {
  const all = [1, 2, 4].map((v) => entry(v)); // 3 is gone
  const cache = new EntryCache();
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of cache.entries([1, 2, 3, 4], reader(all).read)) got.push(e.version);
    })(),
    /1 of the entries from version 1 to 4 are missing from the store/,
  );
  assert.deepEqual(got, [1, 2, 4]);
});

Deno.test("an entry superseded since the stream began is still sent as active", async () => {
  const superseded = { ...entry(2), isActive: false };
  const cache = new EntryCache();
  const got = [];
  for await (const e of cache.entries([2], reader([entry(1), superseded]).read)) got.push(e);
  assert.deepEqual(got[0]?.bytes, entryBytes(entry(2)));
});

Deno.test("entries with documents above a stream's maxDocumentBytes are sent withheld and never cached, the others in full", async () => {
  const big = (version: number) => ({
    ...entry(version),
    document: new TextEncoder().encode(`{"n":${version},"pad":"${"x".repeat(100)}"}`),
  });
  const all = [entry(1), big(2), entry(3), big(4), entry(5)];
  const cache = new EntryCache();
  const store = reader(all);
  const got = [];
  const stream = cache.entries([1, 2, 3, 4, 5], (o) => store.read(o), { maxDocumentBytes: 50 });
  for await (const e of stream) got.push(e);
  assert.deepEqual(got.map((e) => [e.version, e.withheld]), [
    [1, false],
    [2, true],
    [3, false],
    [4, true],
    [5, false],
  ]);
  assert.deepEqual(got[1]!.bytes, entryBytes(all[1]!, { withheld: true }));
  assert.deepEqual(got[2]!.bytes, entryBytes(all[2]!));
  assert.equal(cache.get(2), undefined, "a withheld entry is not cached");
  assert.deepEqual([1, 3, 5].map((v) => cache.get(v) !== undefined), [true, true, true]);

  // A stream with no limit caches the large ones in full; a limited stream still withholds them.
  for await (const _ of cache.entries([2, 4], (o) => store.read(o))) { /* drain */ }
  assert.deepEqual(cache.get(2), entryBytes(all[1]!));
  const limited = reader(all);
  const again = [];
  for await (
    const e of cache.entries([1, 2, 3], (o) => limited.read(o), { maxDocumentBytes: 50 })
  ) {
    again.push(e);
  }
  assert.deepEqual(again.map((e) => [e.version, e.withheld]), [[1, false], [2, true], [3, false]]);
  assert.deepEqual(again[1]!.bytes, entryBytes(all[1]!, { withheld: true }));
  assert.equal(limited.handed, 1, "only the withheld entry is read from the store");
  assert.deepEqual(cache.get(2), entryBytes(all[1]!), "the cache keeps the full bytes");
});
