/**
 * The hub's configuration: defaults, the hostname pattern, TLS files that go
 * together, and a bad value refused with one line naming the variable, the
 * value and what is expected.
 */
import assert from "node:assert/strict";
import { parseHubConfig } from "../../hub/config.ts";
import { ConfigError } from "../../shared/config.ts";

const machine = { hostname: "hub-01.example.net" };

function refused(env: Record<string, string>, hostname = machine.hostname): string {
  let message = "";
  assert.throws(() => parseHubConfig(env, { hostname }), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    message = error.message;
    return true;
  });
  assert.ok(!message.includes("\n"), `one line: ${message}`);
  return message;
}

Deno.test("the hub's defaults are the documented ones, its id the hostname", () => {
  const config = parseHubConfig({}, machine);
  assert.equal(config.hubId, "hub-01.example.net");
  assert.equal(config.hostname, "hub-01.example.net");
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8090);
  assert.equal(config.grpcPort, 50051);
  assert.equal(config.dataDir, ".data/hub");
  assert.equal(config.mongodbUrl, undefined);
  assert.equal(config.networkToken, undefined);
  assert.equal(config.apiToken, undefined);
  assert.equal(config.tls, undefined);
  assert.equal(config.heartbeatIntervalSeconds, 30);
  assert.equal(config.heartbeatTimeoutSeconds, 30);
  assert.equal(config.heartbeatMaxMissed, 3);
  assert.equal(config.syncIntervalSeconds, 300);
  assert.equal(config.maxConcurrentSyncs, 2);
  assert.equal(config.maxSubscriptionsPerPeer, 4);
  assert.equal(config.rateLimitPerSecond, 20);
  assert.equal(config.rateLimitBurst, 40);
  assert.equal(config.keepAliveSeconds, 15);
  assert.equal(config.syncCacheMegabytes, 64);
  assert.equal(config.storePollSeconds, 0.5);
  assert.equal(config.integrityCheckSeconds, 300);
  assert.equal(config.logLevel, "info");
});

Deno.test("every hub variable is read, empty values fall back to defaults, and durations take fractions", () => {
  const config = parseHubConfig({
    HUB_ID: "hub-east",
    HOST: "0.0.0.0",
    PORT: "9000",
    GRPC_PORT: "0",
    DATA_DIR: "/var/lib/hub",
    MONGODB_URL: "mongodb://db:27017/sorcha",
    NETWORK_TOKEN: "net",
    API_TOKEN: "api",
    GRPC_TLS_CERT: "/etc/hub/cert.pem",
    GRPC_TLS_KEY: "/etc/hub/key.pem",
    HEARTBEAT_INTERVAL_SECONDS: "0.5",
    HEARTBEAT_TIMEOUT_SECONDS: "0.25",
    HEARTBEAT_MAX_MISSED: "5",
    SYNC_INTERVAL_SECONDS: "120",
    GRPC_RATE_LIMIT_PER_SECOND: "0",
    GRPC_RATE_LIMIT_BURST: "7",
    LOG_LEVEL: "",
  }, machine);
  assert.equal(config.hubId, "hub-east");
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.port, 9000);
  assert.equal(config.grpcPort, 0);
  assert.equal(config.dataDir, "/var/lib/hub");
  assert.equal(config.mongodbUrl, "mongodb://db:27017/sorcha");
  assert.equal(config.networkToken, "net");
  assert.equal(config.apiToken, "api");
  assert.deepEqual(config.tls, { certPath: "/etc/hub/cert.pem", keyPath: "/etc/hub/key.pem" });
  assert.equal(config.heartbeatIntervalSeconds, 0.5);
  assert.equal(config.heartbeatTimeoutSeconds, 0.25);
  assert.equal(config.heartbeatMaxMissed, 5);
  assert.equal(config.syncIntervalSeconds, 120);
  assert.equal(config.rateLimitPerSecond, 0, "0 turns rate limits off");
  assert.equal(config.rateLimitBurst, 7);
  assert.equal(config.logLevel, "info");
});

Deno.test("HUB_HOSTNAME_PATTERN must match the whole hostname, case aside; HUB_HOSTNAME stands in for the machine's", () => {
  assert.equal(
    parseHubConfig({ HUB_HOSTNAME_PATTERN: String.raw`hub-\d+\.example\.net` }, machine).hubId,
    "hub-01.example.net",
  );
  assert.ok(parseHubConfig({ HUB_HOSTNAME_PATTERN: "HUB-.*" }, machine), "case-insensitive");
  assert.ok(parseHubConfig({ HUB_HOSTNAME_PATTERN: "a|hub-01.example.net" }, machine));
  const stand = parseHubConfig(
    { HUB_HOSTNAME: "hub-7", HUB_HOSTNAME_PATTERN: String.raw`hub-\d` },
    { hostname: "laptop" },
  );
  assert.equal(stand.hostname, "hub-7");
  assert.equal(stand.hubId, "hub-7");
});

Deno.test("a hostname that does not match HUB_HOSTNAME_PATTERN is refused with one line naming both", () => {
  assert.equal(
    refused({ HUB_HOSTNAME_PATTERN: String.raw`hub-\d+` }),
    String
      .raw`Refusing to start: hostname "hub-01.example.net" does not match HUB_HOSTNAME_PATTERN="hub-\\d+" (a regular expression the whole hostname must match)`,
  );
  assert.match(
    refused({ HUB_HOSTNAME_PATTERN: "hub-01" }, "my-hub-01"),
    /^Refusing to start: hostname "my-hub-01" does not match HUB_HOSTNAME_PATTERN="hub-01"/,
    "a part of the hostname is not enough",
  );
});

Deno.test("an invalid HUB_HOSTNAME_PATTERN is a ConfigError naming the variable", () => {
  assert.match(
    refused({ HUB_HOSTNAME_PATTERN: "hub-(" }),
    /^Invalid configuration: HUB_HOSTNAME_PATTERN="hub-\(": expected a regular expression \(.+\)$/,
  );
});

Deno.test("GRPC_TLS_CERT and GRPC_TLS_KEY go together", () => {
  assert.equal(
    refused({ GRPC_TLS_CERT: "/etc/hub/cert.pem" }),
    "Invalid configuration: GRPC_TLS_KEY=(unset): expected a PEM file path, as GRPC_TLS_CERT and GRPC_TLS_KEY go together",
  );
  assert.equal(
    refused({ GRPC_TLS_KEY: "/etc/hub/key.pem" }),
    "Invalid configuration: GRPC_TLS_CERT=(unset): expected a PEM file path, as GRPC_TLS_CERT and GRPC_TLS_KEY go together",
  );
});

const BAD: [Record<string, string>, string][] = [
  [
    { HEARTBEAT_INTERVAL_SECONDS: "-5" },
    'Invalid configuration: HEARTBEAT_INTERVAL_SECONDS="-5": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
  [
    { HEARTBEAT_TIMEOUT_SECONDS: "soon" },
    'Invalid configuration: HEARTBEAT_TIMEOUT_SECONDS="soon": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
  [
    { HEARTBEAT_MAX_MISSED: "0" },
    'Invalid configuration: HEARTBEAT_MAX_MISSED="0": expected a whole number from 1 to 100',
  ],
  [
    { GRPC_PORT: "70000" },
    'Invalid configuration: GRPC_PORT="70000": expected a port number from 0 to 65535',
  ],
  [
    { GRPC_RATE_LIMIT_PER_SECOND: "-1" },
    'Invalid configuration: GRPC_RATE_LIMIT_PER_SECOND="-1": expected a whole number of at least 0',
  ],
  [
    { MONGODB_URL: "postgres://db" },
    'Invalid configuration: MONGODB_URL="postgres://db": expected a URL starting with mongodb:// or mongodb+srv://',
  ],
  [
    { SYNC_INTERVAL_SECONDS: "0" },
    'Invalid configuration: SYNC_INTERVAL_SECONDS="0": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
];

for (const [env, message] of BAD) {
  Deno.test(`${Object.keys(env)[0]}=${Object.values(env)[0]} is refused with one line`, () => {
    assert.equal(refused(env), message);
  });
}
