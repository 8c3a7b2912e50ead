/**
 * Integrity of the system register: a changed, removed or reordered entry is
 * found and named.
 */
import assert from "node:assert/strict";
import {
  documentChecksum,
  openSqliteSystemRegisterStore,
  type SqliteSystemRegisterStore,
  validateIntegrity,
} from "../../hub/system_register/mod.ts";
import { publication } from "./system_register_contract.ts";

async function storeWith(count: number): Promise<SqliteSystemRegisterStore> {
  const store = openSqliteSystemRegisterStore(":memory:");
  for (let n = 0; n < count; n++) await store.publish(publication(`bp-${n}`, n));
  return store;
}

Deno.test("a checksum is sha256 over the document bytes", () => {
  assert.equal(
    documentChecksum(new TextEncoder().encode("")),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("a document changed in the store is found, naming its entry", async () => {
  const store = await storeWith(5);
  try {
    store.execForTest(
      "UPDATE blueprints SET document = ? WHERE version = 3",
      new TextEncoder().encode('{"tampered":true}'),
    );
    const report = await validateIntegrity(store.entries());
    assert.equal(report.ok, false);
    assert.ok(!report.ok);
    assert.equal(report.version, 3);
    assert.equal(report.blueprintId, "bp-2");
    assert.match(report.problem, /document does not match its checksum/);
  } finally {
    await store.close();
  }
});

Deno.test("a document changed together with its checksum breaks the chain", async () => {
  const store = await storeWith(5);
  try {
    const forged = new TextEncoder().encode('{"forged":true}');
    store.execForTest(
      "UPDATE blueprints SET document = ?, checksum = ? WHERE version = 2",
      forged,
      documentChecksum(forged),
    );
    const report = await validateIntegrity(store.entries());
    assert.ok(!report.ok);
    assert.equal(report.version, 2);
    assert.match(report.problem, /chain hash does not follow/);
  } finally {
    await store.close();
  }
});

Deno.test("a removed entry is found at the entry after the gap", async () => {
  const store = await storeWith(5);
  try {
    store.execForTest("DELETE FROM blueprints WHERE version = 3");
    const report = await validateIntegrity(store.entries());
    assert.ok(!report.ok);
    assert.equal(report.version, 4);
  } finally {
    await store.close();
  }
});

Deno.test("reordered entries are found", async () => {
  const store = await storeWith(5);
  try {
    store.execForTest("UPDATE blueprints SET version = 100 WHERE version = 2");
    store.execForTest("UPDATE blueprints SET version = 2 WHERE version = 4");
    store.execForTest("UPDATE blueprints SET version = 4 WHERE version = 100");
    const report = await validateIntegrity(store.entries());
    assert.ok(!report.ok);
    assert.equal(report.version, 2);
    assert.equal(report.blueprintId, "bp-3");
  } finally {
    await store.close();
  }
});

Deno.test("an intact register validates and reports its size", async () => {
  const store = await storeWith(50);
  try {
    const report = await validateIntegrity(store.entries());
    assert.deepEqual({ ...report, ms: 0 }, { ok: true, entries: 50, version: 50, ms: 0 });
  } finally {
    await store.close();
  }
});
