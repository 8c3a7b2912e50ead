/**
 * The register service's configuration: defaults, and a bad value stops the
 * service at start with one line naming the variable, the value and what is
 * expected.
 */
import assert from "node:assert/strict";
import { parseRegisterConfig } from "../../register/config.ts";
import { ConfigError } from "../../shared/config.ts";
import { runToExit, startService } from "../fixtures/service_process.ts";

Deno.test("the register service's defaults are the documented ones", () => {
  const config = parseRegisterConfig({});
  assert.equal(config.port, 8081);
  assert.equal(config.dataDir, ".data/register");
  assert.equal(config.peerUrl, "http://127.0.0.1:8080");
  assert.equal(config.peerTimeoutMs, 10_000);
  assert.equal(config.resyncIntervalMs, 300_000);
  assert.equal(config.resyncRetryMaxMs, 60_000);
  assert.equal(config.mongodbUrl, undefined);
  assert.equal(parseRegisterConfig({ PEER_URL: "" }).peerUrl, "http://127.0.0.1:8080");
});

Deno.test("durations accept fractions of a second", () => {
  const config = parseRegisterConfig({
    RESYNC_INTERVAL_SECONDS: "0.5",
    RESYNC_RETRY_MAX_SECONDS: "0.25",
  });
  assert.equal(config.resyncIntervalMs, 500);
  assert.equal(config.resyncRetryMaxMs, 250);
});

const BAD: [Record<string, string>, string][] = [
  [
    { RESYNC_INTERVAL_SECONDS: "-5" },
    'Invalid configuration: RESYNC_INTERVAL_SECONDS="-5": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
  [
    { RESYNC_RETRY_MAX_SECONDS: "soon" },
    'Invalid configuration: RESYNC_RETRY_MAX_SECONDS="soon": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
  [
    { PEER_URL: "127.0.0.1:8080" },
    'Invalid configuration: PEER_URL="127.0.0.1:8080": expected a URL starting with http:// or https://',
  ],
  [
    { MONGODB_URL: "postgres://db" },
    'Invalid configuration: MONGODB_URL="postgres://db": expected a URL starting with mongodb:// or mongodb+srv://',
  ],
];

for (const [env, message] of BAD) {
  Deno.test(`${Object.keys(env)[0]}=${Object.values(env)[0]} is refused with one line`, () => {
    assert.throws(() => parseRegisterConfig(env), new ConfigError(message));
  });
}

Deno.test("a register process with a bad value exits 1 printing that one line", async () => {
  const result = await runToExit("register/main.ts", { RESYNC_INTERVAL_SECONDS: "-5" });
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trim(), BAD[0]![1]);
});

Deno.test("a register process with the default five-minute interval starts its Deno.cron reconciliation", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "register-data-" });
  try {
    await using register = await startService("register/main.ts", {
      env: { DATA_DIR: dataDir, PEER_URL: "http://127.0.0.1:9" },
    });
    const status = await (await fetch(`${register.url}/api/resync/status`)).json();
    assert.equal(status.schedule, "*/5 * * * *");
    assert.equal(status.intervalSeconds, 300);
    assert.equal(await register.stop("SIGTERM"), 0);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
