/**
 * The behaviour every {@link RegisterStore} adapter shares, as one suite each
 * adapter's test file runs with its own `open`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AppError } from "../../shared/errors.ts";
import type { AdvertisedRegister, Register, RegisterStore } from "../../register/store/types.ts";

/**
 * A store opened for one test. Disposing it closes the store (already closed is fine) and
 * releases whatever the fixture made for the test (a temporary collection, a directory).
 */
export type RegisterStoreFixture = RegisterStore & AsyncDisposable;

/** Options of {@link registerStoreContract}. */
export interface RegisterStoreContractOptions {
  /** Registers every test as ignored (reported as skipped). */
  ignore?: boolean;
  /** Why the tests are ignored; when set, each name ends with ` (skipped: {reason})`. */
  ignoreReason?: string;
}

/** How many registers the large-listing test writes. */
export const LARGE_REGISTER_COUNT = 10_000;
/** How many inserts the large-listing test keeps in flight at once. */
const INSERT_CONCURRENCY = 200;

/** A register id (32 lower-case hex characters) made from a number. */
export function registerId(n: number): string {
  return n.toString(16).padStart(32, "0");
}

/** A register with every field set, different for each `n`. */
export function sampleRegister(n: number, overrides: Partial<Register> = {}): Register {
  const createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, n % 60)).toISOString();
  return {
    id: registerId(n),
    name: `Register ${n}`,
    advertise: n % 2 === 0,
    isPublic: n % 3 === 0,
    latestVersion: 1_000 + n,
    latestDocketVersion: 10 + n,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

/** What `listAdvertised` returns for a register. */
function advertised(register: Register): AdvertisedRegister {
  return {
    id: register.id,
    isPublic: register.isPublic,
    latestVersion: register.latestVersion,
    latestDocketVersion: register.latestDocketVersion,
  };
}

/** Inserts `registers` in this order. */
async function insertAll(store: RegisterStore, registers: readonly Register[]): Promise<void> {
  for (const register of registers) await store.insert(register);
}

/** Asserts `promise` rejects with an {@link AppError} of `code`, and returns it. */
async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a rejection with code ${code}`);
}

/**
 * Registers the shared register-store tests, named `{name}: ...`, each opening a fresh, empty
 * store with `open` and disposing it at the end.
 */
export function registerStoreContract(
  name: string,
  open: () => Promise<RegisterStoreFixture>,
  options: RegisterStoreContractOptions = {},
): void {
  const ignore = options.ignore === true;
  const suffix = ignore && options.ignoreReason ? ` (skipped: ${options.ignoreReason})` : "";
  const test = (title: string, fn: (store: RegisterStore) => Promise<void>): void => {
    Deno.test({
      name: `${name}: ${title}${suffix}`,
      ignore,
      async fn() {
        await using store = await open();
        await fn(store);
      },
    });
  };

  test("insert then get round-trips every field with its type", async (store) => {
    const register = sampleRegister(7, {
      name: "Ledger — «ünïcode» ✓",
      advertise: true,
      isPublic: false,
      latestVersion: 2 ** 40,
      latestDocketVersion: 0,
      createdAt: "2026-01-02T03:04:05.678Z",
      updatedAt: "2026-02-03T04:05:06.789Z",
    });
    await store.insert(register);
    const loaded = await store.get(register.id);
    assert.deepEqual(loaded, register);
    assert.ok(loaded);
    assert.equal(typeof loaded.advertise, "boolean");
    assert.equal(typeof loaded.isPublic, "boolean");
    assert.equal(typeof loaded.latestVersion, "number");
    assert.equal(typeof loaded.latestDocketVersion, "number");
    assert.deepEqual(Object.keys(loaded).sort(), Object.keys(register).sort());
  });

  test("a name holding a NUL comes back whole from get, list, update and delete", async (store) => {
    // The API refuses such names; a store never cuts what it holds (rows written before).
    const name = "evil \u0000 nul";
    const register = sampleRegister(3, { name, advertise: true });
    await store.insert(register);
    assert.equal((await store.get(register.id))?.name, name);
    assert.deepEqual((await store.list()).map((r) => r.name), [name]);
    assert.deepEqual((await store.list({ advertise: true })).map((r) => r.name), [name]);
    const changed = await store.update(register.id, { latestVersion: 1 }, register.updatedAt);
    assert.equal(changed?.before.name, name);
    assert.equal(changed?.after.name, name);
    assert.equal((await store.get(register.id))?.name, name, "an update keeps the whole name");
    assert.equal((await store.delete(register.id))?.name, name);
  });

  test("get of a missing id is undefined", async (store) => {
    await store.insert(sampleRegister(1));
    assert.equal(await store.get(registerId(2)), undefined);
  });

  test("a duplicate insert is already_exists and changes nothing", async (store) => {
    const original = sampleRegister(1);
    await store.insert(original);
    const error = await rejectsWithCode(
      store.insert(sampleRegister(1, { name: "Impostor", advertise: !original.advertise })),
      "already_exists",
    );
    assert.equal(
      error.message,
      `Cannot create register "${original.id}": a register with this id already exists`,
    );
    assert.deepEqual(await store.get(original.id), original);
    assert.deepEqual(await store.list(), [original]);
  });

  test("list is sorted by id and filters by advertise", async (store) => {
    const registers = [5, 2, 9, 4, 1, 8].map((n) => sampleRegister(n, { advertise: n % 2 === 0 }));
    await insertAll(store, registers);
    const sorted = [...registers].sort((a, b) => a.id < b.id ? -1 : 1);
    assert.deepEqual(await store.list(), sorted);
    assert.deepEqual(await store.list({}), sorted);
    assert.deepEqual(await store.list({ advertise: true }), sorted.filter((r) => r.advertise));
    assert.deepEqual(await store.list({ advertise: false }), sorted.filter((r) => !r.advertise));
  });

  test("list of an empty store is empty", async (store) => {
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await store.listAdvertised(), []);
  });

  test("listAdvertised returns only advertised registers, sorted, with only what the peer needs", async (store) => {
    const registers = [
      sampleRegister(3, { advertise: true, isPublic: true }),
      sampleRegister(1, { advertise: true, isPublic: false }),
      sampleRegister(2, { advertise: false, isPublic: true }),
      sampleRegister(0x10, { advertise: true, isPublic: false, latestVersion: 2 ** 35 }),
    ];
    await insertAll(store, registers);
    const expected = registers
      .filter((r) => r.advertise)
      .sort((a, b) => a.id < b.id ? -1 : 1)
      .map(advertised);
    const actual = await store.listAdvertised();
    assert.deepEqual(actual, expected);
    for (const entry of actual) {
      assert.deepEqual(Object.keys(entry).sort(), [
        "id",
        "isPublic",
        "latestDocketVersion",
        "latestVersion",
      ]);
    }
  });

  test("update changes only the given fields and sets updatedAt", async (store) => {
    const original = sampleRegister(1, { advertise: false, isPublic: false });
    const other = sampleRegister(2);
    await insertAll(store, [original, other]);
    const updatedAt = "2026-03-01T12:00:00.000Z";
    const result = await store.update(
      original.id,
      { advertise: true, latestVersion: 5_000 },
      updatedAt,
    );
    const expected: Register = { ...original, advertise: true, latestVersion: 5_000, updatedAt };
    assert.deepEqual(result, { before: original, after: expected });
    assert.deepEqual(await store.get(original.id), expected);
    assert.deepEqual(await store.get(other.id), other);
    assert.deepEqual(await store.listAdvertised(), [advertised(expected), advertised(other)]);
  });

  test("update sets every changeable field, and only updatedAt when there are no changes", async (store) => {
    const original = sampleRegister(1);
    await store.insert(original);
    const changes = {
      name: "Renamed",
      advertise: !original.advertise,
      isPublic: !original.isPublic,
      latestVersion: 42,
      latestDocketVersion: 43,
    };
    const first = await store.update(original.id, changes, "2026-03-01T00:00:00.000Z");
    const changed: Register = { ...original, ...changes, updatedAt: "2026-03-01T00:00:00.000Z" };
    assert.deepEqual(first, { before: original, after: changed });
    const second = await store.update(original.id, {}, "2026-03-02T00:00:00.000Z");
    const touched: Register = { ...changed, updatedAt: "2026-03-02T00:00:00.000Z" };
    assert.deepEqual(second, { before: changed, after: touched });
    assert.deepEqual(await store.get(original.id), touched);
  });

  test("update of a missing id is undefined and writes nothing", async (store) => {
    assert.equal(
      await store.update(registerId(1), { name: "Ghost" }, "2026-03-01T00:00:00.000Z"),
      undefined,
    );
    assert.equal(await store.get(registerId(1)), undefined);
    assert.deepEqual(await store.list(), []);
  });

  test("delete returns the register and removes it", async (store) => {
    const removed = sampleRegister(1, { advertise: true });
    const kept = sampleRegister(2, { advertise: true });
    await insertAll(store, [removed, kept]);
    assert.deepEqual(await store.delete(removed.id), removed);
    assert.equal(await store.get(removed.id), undefined);
    assert.deepEqual(await store.list(), [kept]);
    assert.deepEqual(await store.listAdvertised(), [advertised(kept)]);
    // The id is free again.
    await store.insert(removed);
    assert.deepEqual(await store.get(removed.id), removed);
  });

  test("delete of a missing id is undefined", async (store) => {
    await store.insert(sampleRegister(1));
    assert.equal(await store.delete(registerId(2)), undefined);
    assert.deepEqual(await store.list(), [sampleRegister(1)]);
  });

  test("ping resolves", async (store) => {
    await store.ping();
  });

  test("close is idempotent and later calls fail as unavailable", async (store) => {
    await store.insert(sampleRegister(1));
    await store.close();
    await store.close();
    await rejectsWithCode(store.get(registerId(1)), "unavailable");
    await rejectsWithCode(store.ping(), "unavailable");
  });

  test(`${LARGE_REGISTER_COUNT} registers insert and listAdvertised returns them all in order`, async (store) => {
    // 7919 is prime, so i ↦ i·7919 mod N visits every number below N once, out of order.
    const registers = Array.from(
      { length: LARGE_REGISTER_COUNT },
      (_, i) => sampleRegister((i * 7919) % LARGE_REGISTER_COUNT, { advertise: true }),
    );
    const hidden = [sampleRegister(LARGE_REGISTER_COUNT, { advertise: false })];
    for (let i = 0; i < registers.length; i += INSERT_CONCURRENCY) {
      await Promise.all(
        registers.slice(i, i + INSERT_CONCURRENCY).map((register) => store.insert(register)),
      );
    }
    await insertAll(store, hidden);
    const listed = await store.listAdvertised();
    assert.equal(listed.length, LARGE_REGISTER_COUNT);
    const expected = Array.from(
      { length: LARGE_REGISTER_COUNT },
      (_, n) => advertised(sampleRegister(n, { advertise: true })),
    );
    assert.deepEqual(listed, expected);
  });
}
