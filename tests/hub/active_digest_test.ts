/**
 * The hub's running digest of the active set and its recent history
 * (`hub/system_register/active_digest.ts`): it equals the digest of the
 * active entries computed afresh, at the current version and at each
 * remembered one, between remembered versions of a store with gaps, and
 * says nothing of versions above the last or forgotten; the scan and the
 * watcher feed it, and capture the genesis checksum.
 */
import assert from "node:assert/strict";
import { ActiveDigest } from "../../hub/system_register/active_digest.ts";
import { ensureGenesis } from "../../hub/system_register/genesis.ts";
import { openSqliteSystemRegisterStore } from "../../hub/system_register/sqlite_store.ts";
import type { BlueprintEntry } from "../../hub/system_register/types.ts";
import { RegisterWatcher, scanRegister } from "../../hub/system_register/watcher.ts";
import { ManualClock } from "../../shared/clock.ts";
import { digestOf, EMPTY_DIGEST } from "../../shared/contracts/active_set_digest.ts";
import { AppError } from "../../shared/errors.ts";

interface Entry {
  blueprintId: string;
  version: number;
  checksum: string;
}

function entry(blueprintId: string, version: number): Entry {
  return { blueprintId, version, checksum: `sha256:${blueprintId}-${version}` };
}

/** The active set after `entries` (read in version order): each blueprint's highest version. */
function activeAfter<E extends Entry>(entries: readonly E[], version: number): E[] {
  const active = new Map<string, E>();
  for (const e of entries) if (e.version <= version) active.set(e.blueprintId, e);
  return [...active.values()];
}

function feed(digest: ActiveDigest, entries: readonly Entry[]): void {
  for (const e of entries) digest.add(e.blueprintId, e.version, e.checksum);
}

/** 40 entries over 7 blueprints, some republished many times. */
const history: Entry[] = Array.from(
  { length: 40 },
  (_, i) => entry(`bp-${(i * 5) % 7}`, i + 1),
);

Deno.test("the running digest equals the digest of the active entries, a republished blueprint counted at its latest version only", () => {
  const digest = new ActiveDigest();
  assert.deepEqual(digest.current, { version: 0, digest: EMPTY_DIGEST, blueprints: 0 });
  feed(digest, history);
  const active = activeAfter(history, 40);
  assert.equal(active.length, 7);
  assert.deepEqual(digest.current, { version: 40, digest: digestOf(active), blueprints: 7 });
  assert.equal(digest.digest, digestOf(active));
  assert.equal(digest.size, 7);
});

Deno.test("the digest at each remembered version is the digest of what the active set was then", () => {
  const digest = new ActiveDigest();
  feed(digest, history);
  for (let version = 0; version <= 40; version++) {
    const then = activeAfter(history, version);
    assert.deepEqual(digest.at(version), {
      version,
      digest: digestOf(then),
      blueprints: then.length,
    });
  }
});

Deno.test("a version above the last one recorded has no digest", () => {
  const digest = new ActiveDigest();
  assert.equal(digest.at(1), undefined);
  feed(digest, history.slice(0, 10));
  assert.equal(digest.at(11), undefined);
  assert.ok(digest.at(10));
});

Deno.test("in a store whose versions leave gaps, a version between two remembered ones takes the digest of the one below it", () => {
  const sparse = [entry("a", 3), entry("b", 10), entry("a", 11), entry("c", 20)];
  const digest = new ActiveDigest();
  feed(digest, sparse);
  assert.deepEqual(digest.at(2), { version: 2, digest: EMPTY_DIGEST, blueprints: 0 });
  for (const version of [3, 7, 9]) {
    assert.equal(digest.at(version)?.digest, digestOf([sparse[0]!]));
  }
  assert.deepEqual(digest.at(15), {
    version: 15,
    digest: digestOf([sparse[2]!, sparse[1]!]),
    blueprints: 2,
  });
  assert.equal(digest.at(20)?.digest, digestOf(activeAfter(sparse, 20)));
  assert.equal(digest.at(21), undefined);
});

Deno.test("versions older than the history it remembers have no digest, the remembered ones still do", () => {
  const digest = new ActiveDigest({ history: 8 });
  feed(digest, history); // remembers 33..40
  for (const version of [0, 1, 20, 32]) {
    assert.equal(digest.at(version), undefined, `version ${version} is forgotten`);
  }
  for (let version = 33; version <= 40; version++) {
    assert.equal(digest.at(version)?.digest, digestOf(activeAfter(history, version)));
  }
  assert.equal(digest.current.digest, digestOf(activeAfter(history, 40)));

  // With gaps: the oldest remembered version is the floor, not the oldest version minus one.
  const sparse = new ActiveDigest({ history: 2 });
  feed(sparse, [entry("a", 2), entry("b", 5), entry("c", 9)]); // remembers 5 and 9
  assert.equal(sparse.at(4), undefined, "after 2, forgotten");
  assert.equal(sparse.at(5)?.blueprints, 2);
  assert.equal(sparse.at(8)?.blueprints, 2);
});

Deno.test("an entry at or below the last version recorded changes nothing", () => {
  const digest = new ActiveDigest();
  feed(digest, history.slice(0, 5));
  const before = digest.current;
  digest.add("late", 3, "sha256:late");
  digest.add("bp-0", 5, "sha256:other");
  assert.deepEqual(digest.current, before);
});

Deno.test("a history of less than one version is refused", () => {
  assert.throws(
    () => new ActiveDigest({ history: 0 }),
    (error: unknown) => error instanceof AppError && error.code === "invalid_argument",
  );
});

Deno.test("the start-up scan and the watcher keep the digest and capture the genesis checksum, also of a register empty at start", async () => {
  const store = openSqliteSystemRegisterStore(":memory:");
  try {
    const { start } = await scanRegister(store);
    assert.equal(start.genesisChecksum, "");
    assert.deepEqual(start.digest.current, { version: 0, digest: EMPTY_DIGEST, blueprints: 0 });
    const watcher = new RegisterWatcher(store, start, {
      onEvent: () => {},
      onCorrupt: () => assert.fail("the register is intact"),
    });
    const clock = new ManualClock();
    const genesis = await ensureGenesis(store, { clock, hubId: "hub-1" });
    const published: BlueprintEntry[] = [genesis.entry];
    for (const blueprintId of ["bp-a", "bp-b", "bp-a"]) {
      const { entry } = await store.publish({
        blueprintId,
        document: new TextEncoder().encode(`{"n":${published.length}}`),
        publishedAt: clock.now(),
        publishedBy: "tester",
        metadata: {},
        publicationTransactionId: crypto.randomUUID(),
      });
      published.push(entry);
    }

    await watcher.check();

    assert.equal(watcher.genesisChecksum, genesis.entry.chainHash);
    const active = activeAfter(published, 4);
    assert.deepEqual(watcher.digest.current, {
      version: 4,
      digest: digestOf(active),
      blueprints: 3,
    });
    const rescan = await scanRegister(store);
    assert.equal(rescan.start.genesisChecksum, genesis.entry.chainHash);
    assert.deepEqual(rescan.start.digest.current, watcher.digest.current);
    assert.deepEqual(rescan.start.digest.at(2), watcher.digest.at(2));
  } finally {
    await store.close();
  }
});
