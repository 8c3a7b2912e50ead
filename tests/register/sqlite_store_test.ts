import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../shared/errors.ts";
import { openRegisterStore, SQLITE_FILE_NAME } from "../../register/store/mod.ts";
import { openSqliteRegisterStore } from "../../register/store/sqlite_store.ts";
import { registerStoreContract, sampleRegister } from "./store_contract.ts";

registerStoreContract("sqlite register store", () => {
  return Promise.resolve(openSqliteRegisterStore(":memory:"));
});

Deno.test("sqlite register store: a file store closed and reopened still has its registers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "register-store-" });
  try {
    const path = join(dir, "nested", "deeper", SQLITE_FILE_NAME);
    const registers = [sampleRegister(2, { advertise: true }), sampleRegister(1)];
    {
      await using store = openSqliteRegisterStore(path);
      for (const register of registers) await store.insert(register);
      await store.update(registers[1]!.id, { name: "Renamed" }, "2026-05-01T00:00:00.000Z");
    }
    assert.ok(existsSync(path), "the database file is created with its directories");
    await using reopened = openSqliteRegisterStore(path);
    const renamed = { ...registers[1]!, name: "Renamed", updatedAt: "2026-05-01T00:00:00.000Z" };
    assert.deepEqual(await reopened.list(), [renamed, registers[0]]);
    assert.deepEqual(await reopened.listAdvertised(), [{
      id: registers[0]!.id,
      isPublic: registers[0]!.isPublic,
      latestVersion: registers[0]!.latestVersion,
      latestDocketVersion: registers[0]!.latestDocketVersion,
    }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite register store: openRegisterStore without mongodbUrl opens registers.db in dataDir", async () => {
  const dir = await Deno.makeTempDir({ prefix: "register-store-" });
  try {
    const dataDir = join(dir, "data");
    {
      const store = await openRegisterStore({ dataDir });
      try {
        assert.equal(store.kind, "sqlite");
        await store.insert(sampleRegister(1));
      } finally {
        await store.close();
      }
    }
    assert.ok(existsSync(join(dataDir, SQLITE_FILE_NAME)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sqlite register store: a database that cannot be opened is unavailable, naming its path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "register-store-" });
  try {
    // A directory where the database file should be.
    const path = join(dir, SQLITE_FILE_NAME);
    await Deno.mkdir(path);
    assert.throws(
      () => openSqliteRegisterStore(path),
      (error: unknown) =>
        error instanceof AppError && error.code === "unavailable" &&
        error.message.startsWith(`Register store (SQLite at ${path}) failed: `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
