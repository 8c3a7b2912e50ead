/**
 * The generated protobuf code in `gen/` is what `deno task gen` makes from
 * `protos/` now, byte for byte, and the contracts pass `buf lint`. Both run
 * buf and protoc-gen-es from npm (fetched on first use).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkGenerated, lint, staleFiles } from "../../protos/gen.ts";
import { tempDir } from "../fixtures/wait.ts";

Deno.test("the generated code in gen/ is current with protos/", async () => {
  const stale = await checkGenerated();
  assert.deepEqual(
    stale,
    [],
    `gen/ is stale; run \`deno task gen\` and commit the result. Stale: ${stale.join(", ")}`,
  );
});

Deno.test("the contracts in protos/ pass buf lint", async () => {
  const result = await lint();
  assert.equal(result.stdout, "", "buf lint findings");
  assert.ok(result.success, `buf lint failed (exit ${result.code}): ${result.stderr}`);
});

Deno.test("a changed, missing or extra generated file is named as stale", async () => {
  await using expected = await tempDir("gen-expected-");
  await using actual = await tempDir("gen-actual-");
  const write = async (root: string, path: string, text: string) => {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  };
  await write(expected.path, "a/same_pb.ts", "same");
  await write(actual.path, "a/same_pb.ts", "same");
  await write(expected.path, "a/changed_pb.ts", "new");
  await write(actual.path, "a/changed_pb.ts", "old");
  await write(expected.path, "b/missing_pb.ts", "x");
  await write(actual.path, "b/extra_pb.ts", "x");
  assert.deepEqual(await staleFiles(expected.path, actual.path), [
    "a/changed_pb.ts (changed)",
    "b/missing_pb.ts (missing)",
    "b/extra_pb.ts (extra)",
  ]);
  assert.deepEqual(await staleFiles(expected.path, expected.path), []);
});
