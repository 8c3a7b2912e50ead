import assert from "node:assert/strict";
import {
  HUB_LINK_ARGUMENT,
  LINK_V8_FLAGS,
  linkCommand,
} from "../../../peer/hub_link/link_process.ts";

Deno.test("the link process is started with V8's heap sized for a full sync's bursts", () => {
  const entry = new URL("../../../peer/main.ts", import.meta.url);
  const { command, args } = linkCommand(entry);
  assert.equal(command, Deno.execPath());
  assert.equal(args[0], "run");
  assert.ok(args.includes(`--v8-flags=${LINK_V8_FLAGS.join(",")}`), args.join(" "));
  assert.equal(args.at(-1), HUB_LINK_ARGUMENT);
  assert.deepEqual(LINK_V8_FLAGS, ["--min-semi-space-size=16", "--initial-old-space-size=96"]);
});

Deno.test("this Deno's V8 takes the link process's flags", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--v8-flags=${LINK_V8_FLAGS.join(",")}`, "0"],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stderr), "");
});
