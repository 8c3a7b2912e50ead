/**
 * `runService`, as an operator sees a service started through it: real
 * processes of a fixture entry point (`fixtures/run_service_main.ts`),
 * their exit codes and their lines on standard error.
 */
import assert from "node:assert/strict";

const ENTRY = new URL("../fixtures/run_service_main.ts", import.meta.url);

/** Runs the fixture entry point with `scenario` to its exit. */
async function run(scenario: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-env", ENTRY.href, scenario],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("a service started through runService runs with its configuration and logging, and exits 0 when done", async () => {
  const { code, stderr } = await run("runs", { GREETING: "hello" });
  assert.equal(code, 0, stderr);
  assert.match(stderr, /^.*\[INF\] sorcha·fixture: Ran with hello\n$/);
});

Deno.test("a bad configuration stops the service with its one line and exit code 1, before any logging", async () => {
  const { code, stderr } = await run("bad-config");
  assert.equal(code, 1, stderr);
  assert.equal(stderr, `Invalid configuration: SETTING="x"\n`);
});

Deno.test("a start-up step that fails stops the service with one line saying why, exit code 1", async () => {
  const results = await Promise.all([
    run("step-fails"),
    run("step-cannot-listen"),
    run("cannot-listen"),
  ]);
  const lines = [
    /\[ERR\] sorcha·fixture: Cannot start: the store cannot open\n$/,
    /\[ERR\] sorcha·fixture: Cannot start: GRPC_PORT="7": 127\.0\.0\.1:7 is in use by another process/,
    /\[ERR\] sorcha·fixture: Cannot start: PORT="7": 127\.0\.0\.1:7 is in use by another process/,
  ];
  for (const [n, { code, stderr }] of results.entries()) {
    assert.equal(code, 1, stderr);
    assert.match(stderr, lines[n]!);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

Deno.test("any other failure is not hidden: it is thrown on, with its stack", async () => {
  for (const scenario of ["broken-config", "fails"]) {
    const { code, stderr } = await run(scenario);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /Uncaught \(in promise\) TypeError: /, scenario);
  }
});
