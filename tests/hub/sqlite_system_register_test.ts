/**
 * The embedded system register: the shared contract, plus sharing one file
 * between stores (hubs with the same DATA_DIR).
 */
import assert from "node:assert/strict";
import { openSqliteSystemRegisterStore, validateIntegrity } from "../../hub/system_register/mod.ts";
import { publication, systemRegisterContract } from "./system_register_contract.ts";

systemRegisterContract("sqlite system register", () => {
  return Promise.resolve(openSqliteSystemRegisterStore(":memory:"));
});

Deno.test("two stores on one file (two hubs, one DATA_DIR) share one version sequence", async () => {
  const dir = await Deno.makeTempDir({ prefix: "system-register-" });
  const a = openSqliteSystemRegisterStore(`${dir}/system-register.db`);
  const b = openSqliteSystemRegisterStore(`${dir}/system-register.db`);
  try {
    const versions: number[] = [];
    for (let n = 0; n < 20; n++) {
      const store = n % 2 === 0 ? a : b;
      versions.push((await store.publish(publication(`bp-${n}`, n))).entry.version);
    }
    assert.deepEqual(versions, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal((await a.head()).version, 20);
    assert.equal((await b.head()).version, 20);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hubs in separate processes publishing at once on one file get distinct versions and one valid chain", async () => {
  const dir = await Deno.makeTempDir({ prefix: "system-register-" });
  const path = `${dir}/system-register.db`;
  try {
    const workers = ["left", "right"].map((prefix) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "tests/hub/publish_worker.ts", path, prefix, "60"],
        stdout: "null",
        stderr: "piped",
      }).output()
    );
    for (const result of await Promise.all(workers)) {
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
    }
    const store = openSqliteSystemRegisterStore(path);
    try {
      const versions: number[] = [];
      for await (const entry of store.entries()) versions.push(entry.version);
      assert.deepEqual(versions, Array.from({ length: 120 }, (_, i) => i + 1));
      assert.equal((await validateIntegrity(store.entries())).ok, true);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
