/**
 * `deno task hub` runs the hub under a supervisor (`hub/supervised.ts`):
 * a hub whose runtime crashes is started again and serves once more, a stop
 * request reaches it, and a hub started with `--supervised` stops once its
 * supervisor is gone, even when the supervisor was killed outright.
 */
import assert from "node:assert/strict";
import { freePort } from "../fixtures/ports.ts";
import { tempDir, until } from "../fixtures/wait.ts";

const HUB_MAIN = new URL("../../hub/main.ts", import.meta.url).pathname;

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The pids of `pid`'s children (Linux). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`);
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

function hubEnv(dataDir: string) {
  const port = freePort();
  return {
    port,
    env: {
      NO_COLOR: "1",
      HOST: "127.0.0.1",
      PORT: String(port),
      GRPC_PORT: String(freePort()),
      DATA_DIR: dataDir,
      HUB_ID: "supervised",
    },
  };
}

Deno.test("deno task hub starts the hub again when its runtime crashes, and passes a stop on", async () => {
  await using dataDir = await tempDir("hub-data-");
  const { port, env } = hubEnv(dataDir.path);
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  const [, ...args] = String(config.tasks.hub).split(/\s+/);
  const supervisor = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = supervisor.output();
  const ready = `http://127.0.0.1:${port}/readyz`;
  try {
    await until("the hub answers", () => answers(ready));
    const [first] = await childrenOf(supervisor.pid);
    assert.ok(first, "the hub runs as the supervisor's child");
    Deno.kill(first, "SIGABRT"); // as Deno's node:http2 abort does
    await until("a new hub answers", async () => {
      const [next] = await childrenOf(supervisor.pid);
      return next !== undefined && next !== first && await answers(ready);
    });
  } finally {
    supervisor.kill("SIGTERM");
  }
  const { code, stderr, stdout } = await output;
  const text = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  assert.equal(code, 0, text);
  assert.match(text, /hub killed by SIGABRT; starting it again in \d+ ms/);
  assert.match(text, /hub stopping on SIGTERM/);
});

Deno.test("a hub started with --supervised stops, as on SIGTERM, once its supervisor's pipe closes", async () => {
  await using dataDir = await tempDir("hub-data-");
  const { port, env } = hubEnv(dataDir.path);
  const hub = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", HUB_MAIN, "--supervised"],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = hub.output();
  try {
    await until("the hub answers", () => answers(`http://127.0.0.1:${port}/readyz`));
  } finally {
    // What a supervisor's end, even by SIGKILL, does to its child's standard input.
    await hub.stdin.close();
  }
  const { code, stderr, stdout } = await output;
  const text = new TextDecoder().decode(stderr) + new TextDecoder().decode(stdout);
  assert.equal(code, 0, text);
  assert.match(text, /hub stopping on the end of its supervisor/);
  assert.match(text, /hub stopped/);
});
