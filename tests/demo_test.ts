/**
 * `deno task demo --smoke` as an operator runs it: the whole network on
 * loopback, the walk-through, one line per check, exit code 0.
 */
import assert from "node:assert/strict";
import { freePort } from "./fixtures/ports.ts";
import { HUB_IDS } from "../demo/network.ts";

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
      "every peer is connected to n0 with a replica equal to the hub's",
      "a blueprint published on n1 is in every replica within 1 s \\(\\d+ ms",
      "n0 killed, every peer connected to n1 within 3 s \\(\\d+ ms",
      "every hub stopped, peers Isolated and still serving the replica",
      "a hub started again \\(n0\\), peers connected again with a replica equal to the hub's",
    ]
  ) assert.match(out, new RegExp(`^PASS {2}${check}`, "m"));
  assert.match(out, /^13 checks passed, 0 failed$/m);
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
    hubs: HUB_IDS.map((name) => ({ ...down(name), name, grpc: `127.0.0.1:${freePort()}` })),
    log: () => "",
    pid: () => undefined,
    killHub: () => Promise.resolve(),
    stopHub: () => Promise.resolve(),
    startHub: () => Promise.resolve(),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  const hub = network.hubs[0]!;
  const peers = [network.alpha, network.bravo, network.charlie];
  const lines: string[] = [];
  const result = await walkThrough(
    { ...network, hub, peers, services: [hub, network.alpha] },
    { print: (line) => lines.push(line), hubLinkTimeoutMs: 500 },
  );
  assert.equal(result.passed, 0);
  assert.equal(result.failed, lines.length);
  assert.ok(result.failed >= 3);
  assert.match(lines[0]!, /^FAIL {2}every service is ready: /);
  assert.ok(lines.every((line) => line.startsWith("FAIL  ")));
  assert.ok(
    lines.some((line) => line.startsWith("FAIL  every peer is connected to n0")),
    lines.join("\n"),
  );
});
