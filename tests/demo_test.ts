/**
 * `deno task demo --smoke` as an operator runs it: the whole network on
 * loopback, the walk-through, one line per check, exit code 0.
 */
import assert from "node:assert/strict";
import { freePort } from "./fixtures/ports.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("deno task demo --smoke starts the whole network, passes every check of the walk-through and exits 0", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo", "--smoke"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assert.equal(code, 0, `${out}\n${new TextDecoder().decode(stderr)}`);
  for (
    const check of [
      "every service is ready",
      "bravo and charlie learn it from alpha by gossip",
      "a blueprint published on the hub is notified to a gRPC subscriber",
      "the register withdrawn leaves every peer",
    ]
  ) assert.match(out, new RegExp(`^ok {4}${check}`, "m"));
  assert.match(out, /^7 checks passed, 0 failed$/m);
  assert.doesNotMatch(out, /FAIL/);
});

Deno.test("the walk-through reports each failed check with what it saw, and counts it", async () => {
  const { walkThrough } = await import("../demo/smoke.ts");
  const down = (name: string) => ({ name, url: `http://127.0.0.1:${freePort()}` });
  const network = {
    alpha: down("alpha"),
    bravo: down("bravo"),
    charlie: down("charlie"),
    register: down("register"),
    hub: { ...down("hub"), grpc: `127.0.0.1:${freePort()}` },
    services: [] as { name: string; url: string }[],
    log: () => "",
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  network.services = [network.hub, network.alpha];
  const lines: string[] = [];
  const result = await walkThrough(network, { print: (line) => lines.push(line) });
  assert.equal(result.passed, 0);
  assert.equal(result.failed, lines.length);
  assert.ok(result.failed >= 3);
  assert.match(lines[0]!, /^FAIL {2}every service is ready: /);
  assert.ok(lines.every((line) => line.startsWith("FAIL  ")));
});
