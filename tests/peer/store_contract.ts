/**
 * The behaviour every {@link AdvertisementStore} adapter shares, as one suite
 * each adapter's test file runs with its own fixture.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ManualClock } from "../../shared/clock.ts";
import {
  type Advertisement,
  advertisementKey,
  type AdvertisementStore,
  type FullSyncRecord,
  parseAdvertisementKey,
  type StoredAdvertisement,
} from "../../peer/store/types.ts";

/** A store opened for one test, and how to release it. */
export interface StoreFixture {
  /** The store under test. */
  store: AdvertisementStore;
  /** The store's clock, when the test controls time. */
  clock?: ManualClock;
  /** Opens another store on the same data (stores that persist); the test closes it. */
  reopen?: () => Promise<AdvertisementStore>;
  /** Closes the store and releases what the fixture started. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What an adapter's fixture offers beyond a store; the tests needing it are ignored otherwise. */
export interface StoreContractOptions {
  /** The fixture gives the store's {@link ManualClock} (`clock`). */
  manualClock?: boolean;
  /** The fixture can open another store on the same data (`reopen`). */
  persistent?: boolean;
}

/** Leases the tests give, far from ending during a test. */
const LEASE_MS = 60_000;
/** How far a store measuring time itself (Redis TTLs) may be from the expected expiry. */
const REAL_TIME_TOLERANCE_MS = 1_000;

/** A register id (32 lowercase hex characters) made from a number. */
export function registerId(n: number): string {
  return n.toString(16).padStart(32, "0");
}

/** A local (no `peerId`) or remote advertisement with every field set. */
export function sampleAdvertisement(
  n: number,
  overrides: Partial<Advertisement> = {},
): Advertisement {
  return {
    registerId: registerId(n),
    syncState: "FullyReplicated",
    latestVersion: 100 + n,
    latestDocketVersion: 10 + n,
    isPublic: n % 2 === 0,
    lastUpdated: new Date(Date.UTC(2026, 0, 1, 0, 0, n % 60)).toISOString(),
    ...overrides,
  };
}

/** Registers the shared store tests, named `{name}: ...`, opening a fresh store for each. */
export function describeStoreContract(
  name: string,
  open: () => Promise<StoreFixture>,
  options: StoreContractOptions = {},
): void {
  const test = (
    title: string,
    fn: (fixture: StoreFixture) => Promise<void>,
    needs: { manualClock?: boolean; persistent?: boolean } = {},
  ): void => {
    // A test the store cannot take is listed as skipped, saying why.
    const skipped = needs.manualClock && !options.manualClock
      ? "this store's fixture has no manual clock"
      : needs.persistent && !options.persistent
      ? "this store keeps nothing across a reopen"
      : undefined;
    Deno.test({
      name: `${name}: ${title}${skipped ? ` (skipped: ${skipped})` : ""}`,
      ignore: skipped !== undefined,
      async fn() {
        await using fixture = await open();
        if (needs.manualClock) assert.ok(fixture.clock, "the fixture gives no clock");
        if (needs.persistent) assert.ok(fixture.reopen, "the fixture cannot reopen the store");
        await fn(fixture);
      },
    });
  };
  const now = (fixture: StoreFixture): number => fixture.clock?.now() ?? Date.now();
  const assertExpiry = (fixture: StoreFixture, actual: number, expected: number): void => {
    if (fixture.clock) {
      assert.equal(actual, expected);
    } else {
      assert.ok(
        Math.abs(actual - expected) <= REAL_TIME_TOLERANCE_MS,
        `expiry ${actual} is not within ${REAL_TIME_TOLERANCE_MS} ms of ${expected}`,
      );
    }
  };
  const byKey = (entries: StoredAdvertisement[]): Map<string, StoredAdvertisement> =>
    new Map(entries.map((entry) => [advertisementKey(entry.advertisement), entry]));

  test("local and remote advertisements round-trip through write and loadAll with all their fields", async (fixture) => {
    const { store } = fixture;
    const local = sampleAdvertisement(1, { syncState: "Active", isPublic: true });
    const remote = sampleAdvertisement(2, {
      peerId: "peer-b",
      syncState: "Syncing",
      isPublic: false,
    });
    const localExpiry = now(fixture) + LEASE_MS;
    const remoteExpiry = now(fixture) + 2 * LEASE_MS;
    const outcome = await store.write({
      put: [
        { advertisement: local, expiresAt: localExpiry, valueChanged: true },
        { advertisement: remote, expiresAt: remoteExpiry, valueChanged: true },
      ],
      remove: [],
    });
    assert.deepEqual(outcome, { restored: 0 });
    const loaded = byKey(await store.loadAll());
    assert.equal(loaded.size, 2);
    const loadedLocal = loaded.get(advertisementKey(local));
    const loadedRemote = loaded.get(advertisementKey(remote));
    assert.ok(loadedLocal && loadedRemote);
    assert.deepEqual(loadedLocal.advertisement, local);
    assert.deepEqual(loadedRemote.advertisement, remote);
    assertExpiry(fixture, loadedLocal.expiresAt, localExpiry);
    assertExpiry(fixture, loadedRemote.expiresAt, remoteExpiry);
  });

  test("a removed advertisement is no longer loaded", async (fixture) => {
    const { store } = fixture;
    const kept = sampleAdvertisement(1);
    const removed = sampleAdvertisement(2, { peerId: "peer-b" });
    const expiresAt = now(fixture) + LEASE_MS;
    await store.write({
      put: [
        { advertisement: kept, expiresAt, valueChanged: true },
        { advertisement: removed, expiresAt, valueChanged: true },
      ],
      remove: [],
    });
    await store.write({
      put: [],
      remove: [
        { registerId: removed.registerId, peerId: "peer-b" },
        { registerId: registerId(99) },
      ],
    });
    const loaded = await store.loadAll();
    assert.deepEqual(loaded.map((entry) => entry.advertisement), [kept]);
  });

  test("a refresh-only write keeps the stored value and moves the expiry", async (fixture) => {
    const { store } = fixture;
    const original = sampleAdvertisement(1, { peerId: "peer-b" });
    await store.write({
      put: [{ advertisement: original, expiresAt: now(fixture) + LEASE_MS, valueChanged: true }],
      remove: [],
    });
    const changed = { ...original, latestVersion: 999, syncState: "Error" as const };
    const newExpiry = now(fixture) + 2 * LEASE_MS;
    const outcome = await store.write({
      put: [{ advertisement: changed, expiresAt: newExpiry, valueChanged: false }],
      remove: [],
    });
    assert.deepEqual(outcome, { restored: 0 });
    const [loaded, ...rest] = await store.loadAll();
    assert.equal(rest.length, 0);
    assert.ok(loaded);
    assert.deepEqual(loaded.advertisement, original);
    assertExpiry(fixture, loaded.expiresAt, newExpiry);
  });

  test("a refresh-only write of a missing entry writes it and reports it restored", async (fixture) => {
    const { store } = fixture;
    const advertisement = sampleAdvertisement(3);
    const expiresAt = now(fixture) + LEASE_MS;
    const outcome = await store.write({
      put: [{ advertisement, expiresAt, valueChanged: false }],
      remove: [],
    });
    assert.deepEqual(outcome, { restored: 1 });
    const [loaded] = await store.loadAll();
    assert.ok(loaded);
    assert.deepEqual(loaded.advertisement, advertisement);
    assertExpiry(fixture, loaded.expiresAt, expiresAt);
  });

  test("a put whose expiry is past is not loaded and deletes the entry", async (fixture) => {
    const { store } = fixture;
    const gone = sampleAdvertisement(1);
    const neverThere = sampleAdvertisement(2, { peerId: "peer-b" });
    await store.write({
      put: [{ advertisement: gone, expiresAt: now(fixture) + LEASE_MS, valueChanged: true }],
      remove: [],
    });
    const outcome = await store.write({
      put: [
        { advertisement: gone, expiresAt: now(fixture) - 1, valueChanged: true },
        { advertisement: neverThere, expiresAt: now(fixture) - 1, valueChanged: false },
      ],
      remove: [],
    });
    assert.deepEqual(outcome, { restored: 0 });
    assert.deepEqual(await store.loadAll(), []);
  });

  test(
    "an entry is no longer loaded once the clock passes the end of its lease",
    async (fixture) => {
      const { store } = fixture;
      const clock = fixture.clock!;
      const advertisement = sampleAdvertisement(1);
      await store.write({
        put: [{ advertisement, expiresAt: clock.now() + LEASE_MS, valueChanged: true }],
        remove: [],
      });
      clock.advance(LEASE_MS - 1);
      assert.equal((await store.loadAll()).length, 1);
      clock.advance(1);
      assert.deepEqual(await store.loadAll(), []);
    },
    { manualClock: true },
  );

  test(
    "a refresh-only write of an entry whose lease ended writes it again and reports it restored",
    async (fixture) => {
      const { store } = fixture;
      const clock = fixture.clock!;
      const stale = sampleAdvertisement(1);
      await store.write({
        put: [{ advertisement: stale, expiresAt: clock.now() + LEASE_MS, valueChanged: true }],
        remove: [],
      });
      clock.advance(2 * LEASE_MS);
      const fresh = { ...stale, latestVersion: 500 };
      const outcome = await store.write({
        put: [{ advertisement: fresh, expiresAt: clock.now() + LEASE_MS, valueChanged: false }],
        remove: [],
      });
      assert.deepEqual(outcome, { restored: 1 });
      const [loaded] = await store.loadAll();
      assert.deepEqual(loaded, { advertisement: fresh, expiresAt: clock.now() + LEASE_MS });
    },
    { manualClock: true },
  );

  test("10,000 puts in one write all load back", async (fixture) => {
    const { store } = fixture;
    const expiresAt = now(fixture) + LEASE_MS;
    const put = Array.from({ length: 10_000 }, (_, i) => ({
      advertisement: sampleAdvertisement(i, i % 2 === 0 ? {} : { peerId: `peer-${i % 7}` }),
      expiresAt,
      valueChanged: true,
    }));
    assert.deepEqual(await store.write({ put, remove: [] }), { restored: 0 });
    const loaded = byKey(await store.loadAll());
    assert.equal(loaded.size, 10_000);
    for (const item of [put[0], put[1], put[4_999], put[9_998], put[9_999]]) {
      assert.ok(item);
      assert.deepEqual(
        loaded.get(advertisementKey(item.advertisement))?.advertisement,
        item.advertisement,
      );
    }
  });

  test("the full-sync record round-trips", async (fixture) => {
    const { store } = fixture;
    assert.equal(await store.loadFullSync(), undefined);
    const first: FullSyncRecord = {
      at: "2026-01-01T00:00:00.000Z",
      counts: { processed: 3, added: 1, updated: 1, removed: 1 },
      outcome: "memory-only",
      storeError: "Redis at redis://127.0.0.1:1: connection refused",
    };
    await store.saveFullSync(first);
    assert.deepEqual(await store.loadFullSync(), first);
    const second: FullSyncRecord = {
      at: "2026-01-02T00:00:00.000Z",
      counts: { processed: 5, added: 5, updated: 0, removed: 0 },
      outcome: "persisted",
    };
    await store.saveFullSync(second);
    assert.deepEqual(await store.loadFullSync(), second);
    assert.deepEqual(await store.loadAll(), [], "the full-sync record is not an advertisement");
  });

  test(
    "the full-sync record and the advertisements survive reopening the store",
    async (fixture) => {
      const { store } = fixture;
      const reopen = fixture.reopen!;
      const record: FullSyncRecord = {
        at: "2026-01-01T00:00:00.000Z",
        counts: { processed: 1, added: 1, updated: 0, removed: 0 },
        outcome: "persisted",
      };
      const advertisement = sampleAdvertisement(7, { peerId: "peer-c" });
      const expiresAt = now(fixture) + LEASE_MS;
      await store.write({ put: [{ advertisement, expiresAt, valueChanged: true }], remove: [] });
      await store.saveFullSync(record);
      await store.close();
      const reopened = await reopen();
      try {
        assert.deepEqual(await reopened.loadFullSync(), record);
        const [loaded, ...rest] = await reopened.loadAll();
        assert.equal(rest.length, 0);
        assert.ok(loaded);
        assert.deepEqual(loaded.advertisement, advertisement);
        assertExpiry(fixture, loaded.expiresAt, expiresAt);
      } finally {
        await reopened.close();
      }
    },
    { persistent: true },
  );

  test("remote advertisements whose peer ids contain '-' and '_' load back with their peer", async (fixture) => {
    const { store } = fixture;
    const peerIds = ["peer-a", "peer_b", "a-b_c-d", "_-_", "node-01_eu-west"];
    const expiresAt = now(fixture) + LEASE_MS;
    const ads = peerIds.map((peerId, i) => sampleAdvertisement(i, { peerId }));
    await store.write({
      put: ads.map((advertisement) => ({ advertisement, expiresAt, valueChanged: true })),
      remove: [],
    });
    for (const ad of ads) {
      assert.deepEqual(parseAdvertisementKey(advertisementKey(ad)), {
        peerId: ad.peerId,
        registerId: ad.registerId,
      });
    }
    const loaded = byKey(await store.loadAll());
    assert.equal(loaded.size, ads.length);
    for (const ad of ads) assert.deepEqual(loaded.get(advertisementKey(ad))?.advertisement, ad);
  });

  test("a batch applies its puts in order, then its removals", async (fixture) => {
    const { store } = fixture;
    const t = now(fixture);
    const a = sampleAdvertisement(1);
    const b = sampleAdvertisement(2);
    const c = sampleAdvertisement(3);
    const outcome = await store.write({
      put: [
        // a: written, then refreshed (value kept, expiry moved).
        { advertisement: a, expiresAt: t + LEASE_MS, valueChanged: true },
        {
          advertisement: { ...a, latestVersion: 7 },
          expiresAt: t + 2 * LEASE_MS,
          valueChanged: false,
        },
        // b: written, deleted by a past expiry, then restored by a refresh.
        { advertisement: b, expiresAt: t + LEASE_MS, valueChanged: true },
        { advertisement: b, expiresAt: t - 1, valueChanged: true },
        { advertisement: { ...b, latestVersion: 8 }, expiresAt: t + LEASE_MS, valueChanged: false },
        // c: written, then removed.
        { advertisement: c, expiresAt: t + LEASE_MS, valueChanged: true },
      ],
      remove: [{ registerId: c.registerId }],
    });
    assert.deepEqual(outcome, { restored: 1 });
    const loaded = byKey(await store.loadAll());
    assert.equal(loaded.size, 2);
    assert.deepEqual(loaded.get(advertisementKey(a))?.advertisement, a);
    assertExpiry(fixture, loaded.get(advertisementKey(a))?.expiresAt ?? 0, t + 2 * LEASE_MS);
    assert.deepEqual(loaded.get(advertisementKey(b))?.advertisement, { ...b, latestVersion: 8 });
  });

  test("a batch with a full-sync record saves the record with its changes, also with none", async (fixture) => {
    const { store } = fixture;
    const t = now(fixture);
    const record = {
      at: new Date(t).toISOString(),
      counts: { processed: 2, added: 1, updated: 0, removed: 1 },
      outcome: "persisted" as const,
    };
    await store.write({
      put: [1, 2].map((n) => ({
        advertisement: sampleAdvertisement(n),
        expiresAt: t + LEASE_MS,
        valueChanged: true,
      })),
      remove: [],
    });
    await store.write({
      put: [{ advertisement: sampleAdvertisement(3), expiresAt: t + LEASE_MS, valueChanged: true }],
      remove: [sampleAdvertisement(1)],
      fullSync: record,
    });
    assert.deepEqual(await store.loadFullSync(), record);
    assert.deepEqual(
      [...byKey(await store.loadAll()).keys()].sort(),
      [2, 3].map((n) => advertisementKey(sampleAdvertisement(n))).sort(),
    );
    const unchanged = { ...record, at: new Date(t + 1).toISOString() };
    await store.write({ put: [], remove: [], fullSync: unchanged });
    assert.deepEqual(await store.loadFullSync(), unchanged);
  });
}
