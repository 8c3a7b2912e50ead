import assert from "node:assert/strict";
import { PEER_ID_FILE, PEER_ID_PATTERN, resolvePeerId } from "../../peer/identity.ts";
import { AppError } from "../../shared/errors.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "peer-identity-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a configured PEER_ID is used as it is and nothing is written", async () => {
  await withDir(async (dir) => {
    assert.equal(await resolvePeerId({ configured: "node-a", dataDir: dir }), "node-a");
    await assert.rejects(Deno.stat(`${dir}/${PEER_ID_FILE}`), Deno.errors.NotFound);
  });
});

Deno.test("without PEER_ID an id is generated once and kept in DATA_DIR across restarts", async () => {
  await withDir(async (dir) => {
    const first = await resolvePeerId({ dataDir: `${dir}/nested` });
    assert.match(first, PEER_ID_PATTERN);
    assert.match(first, /^peer-[0-9a-f]{12}$/);
    assert.equal(await resolvePeerId({ dataDir: `${dir}/nested` }), first);
    assert.equal((await Deno.readTextFile(`${dir}/nested/${PEER_ID_FILE}`)).trim(), first);
  });
});

Deno.test("a kept id that is not valid stops the peer with a message saying how to fix it", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/${PEER_ID_FILE}`, "not a valid id!\n");
    await assert.rejects(resolvePeerId({ dataDir: dir }), (error: unknown) => {
      assert.ok(error instanceof AppError);
      assert.equal(error.code, "failed_precondition");
      assert.match(
        error.message,
        /is not 1 to 64 of A-Z a-z 0-9 _ - \(fix or delete the file, or set PEER_ID\)$/,
      );
      return true;
    });
  });
});
