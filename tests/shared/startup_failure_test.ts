/**
 * Services that cannot start, as an operator sees them: real processes of
 * the peer, the register service and the hub, each ending with exit code 1
 * and one line naming the variable at fault and its value, never a stack
 * trace: a port already in use (the hub's HTTP and gRPC ports), a HOST that
 * is no address, and a credential set but empty.
 */
import assert from "node:assert/strict";
import { tempDir } from "../fixtures/wait.ts";

const SERVICES = ["peer/main.ts", "register/main.ts", "hub/main.ts"] as const;

/** `deno task hub`'s arguments to `deno` (the supervisor), as deno.json defines them. */
async function hubTaskArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  return String(config.tasks.hub).split(/\s+/).slice(1);
}

/** How long a service that should refuse to start may run before it is stopped (it failed). */
const EXIT_TIMEOUT_MS = 20_000;

/**
 * Runs `entry` (`deno run -A`, or `args` instead) to its exit on a temporary data directory;
 * a service still running after {@link EXIT_TIMEOUT_MS} is stopped (SIGTERM).
 */
async function runService(entry: string, env: Record<string, string>, args?: string[]) {
  await using dataDir = await tempDir("startup-failure-");
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), EXIT_TIMEOUT_MS);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: args ?? ["run", "-A", entry],
      env: {
        NO_COLOR: "1",
        HOST: "127.0.0.1",
        PORT: "0",
        GRPC_PORT: "0",
        DATA_DIR: dataDir.path,
        ...env,
      },
      stdin: "null",
      signal: stop.signal,
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    return { code: out.code, stderr: stop.signal.aborted ? `(still running)\n${stderr}` : stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts exit code 1 and one error line matching `line`, without a stack trace or a hint. */
function assertOneLine(
  what: string,
  result: { code: number; stderr: string },
  line: RegExp,
): void {
  const { code, stderr } = result;
  assert.equal(code, 1, `${what} exits 1:\n${stderr}`);
  assert.doesNotMatch(stderr, /Uncaught|^\s+at /m, `${what}: no stack trace:\n${stderr}`);
  assert.doesNotMatch(stderr, /unsafe-proto|hint:/, `${what}: no misleading hint:\n${stderr}`);
  const errors = stderr.split("\n").filter((l) => /\[ERR\]|Invalid configuration|^E /.test(l));
  assert.equal(errors.length, 1, `${what}: one error line:\n${stderr}`);
  assert.match(errors[0]!, line, what);
}

/** A loopback port held by this test while `work` runs. */
async function withBusyPort<T>(work: (port: number) => Promise<T>): Promise<T> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    return await work(listener.addr.port);
  } finally {
    listener.close();
  }
}

Deno.test("every service refuses a PORT in use with one line naming PORT and its value, exit code 1", async () => {
  await withBusyPort(async (port) => {
    const results = await Promise.all(
      SERVICES.map((entry) =>
        // The peer with a hub to link to: the link's process is not started when it cannot serve.
        runService(entry, { PORT: String(port), HUB_NODES: "127.0.0.1:1" })
      ),
    );
    for (const [n, entry] of SERVICES.entries()) {
      assertOneLine(
        entry,
        results[n]!,
        new RegExp(
          `Cannot start: PORT="${port}": 127\\.0\\.0\\.1:${port} is in use by another process \\(expected a free port, or 0 for any free port\\)$`,
        ),
      );
    }
    assert.doesNotMatch(results[0]!.stderr, /hub-link/, "the peer started no hub link");
  });
});

Deno.test("the hub refuses a GRPC_PORT in use with one line naming GRPC_PORT, also under its supervisor", async () => {
  await withBusyPort(async (port) => {
    const env = { GRPC_PORT: String(port) };
    const [direct, supervised] = await Promise.all([
      runService("hub/main.ts", env),
      runService("hub/main.ts", env, await hubTaskArgs()),
    ]);
    const line = new RegExp(
      `Cannot start: GRPC_PORT="${port}": 127\\.0\\.0\\.1:${port} is in use by another process`,
    );
    assertOneLine("hub/main.ts", direct, line);
    assertOneLine("deno task hub", supervised, line);
    assert.doesNotMatch(supervised.stderr, /starting it again/, "a failed start is not restarted");
  });
});

Deno.test("every service refuses a HOST that is no address with one line naming HOST and its value", async () => {
  const results = await Promise.all(
    SERVICES.map((entry) => runService(entry, { HOST: "999.1.1.1" })),
  );
  for (const [n, entry] of SERVICES.entries()) {
    assertOneLine(
      entry,
      results[n]!,
      /Cannot start: HOST="999\.1\.1\.1": not an address this machine can listen on: it does not resolve/,
    );
  }
});

Deno.test("a credential set but empty stops every service that reads it, naming the variable", async () => {
  const cases: [string, string][] = [
    ["peer/main.ts", "API_TOKEN"],
    ["peer/main.ts", "NETWORK_TOKEN"],
    ["register/main.ts", "API_TOKEN"],
    ["register/main.ts", "PEER_API_TOKEN"],
    ["hub/main.ts", "API_TOKEN"],
    ["hub/main.ts", "NETWORK_TOKEN"],
  ];
  const results = await Promise.all(
    cases.map(([entry, variable], n) => runService(entry, { [variable]: n % 2 ? " " : "" })),
  );
  for (const [n, [entry, variable]] of cases.entries()) {
    assertOneLine(
      `${entry} with ${variable} empty`,
      results[n]!,
      new RegExp(
        `^Invalid configuration: ${variable}="\\s*": expected a non-empty token \\(unset the variable to run without one\\)$`,
      ),
    );
  }
});
