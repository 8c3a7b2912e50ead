/**
 * The hub link's configuration: HUB_NODES and the timing variables of
 * interface.md, their defaults, and one-line errors for bad values.
 */
import assert from "node:assert/strict";
import { hubLinkWarnings, parsePeerConfig } from "../../../peer/config.ts";
import { isIpAddress, parseHubList } from "../../../peer/hub_link/hub_address.ts";
import { ConfigError } from "../../../shared/config.ts";

Deno.test("without HUB_NODES the peer has no hub link", () => {
  assert.equal(parsePeerConfig({}).hubLink, undefined);
  assert.equal(parsePeerConfig({ HUB_NODES: " , " }).hubLink, undefined);
});

Deno.test("the hub link's defaults are the documented ones", () => {
  const link = parsePeerConfig({ HUB_NODES: "n0.sorcha.dev:50051" }).hubLink;
  assert.ok(link);
  assert.deepEqual(link.hubs, [
    { address: "n0.sorcha.dev:50051", host: "n0.sorcha.dev", port: 50051, priority: 0 },
  ]);
  assert.equal(link.heartbeatIntervalMs, 30_000);
  assert.equal(link.heartbeatTimeoutMs, 30_000);
  assert.equal(link.heartbeatMaxMissed, 2);
  assert.equal(link.retryMaxMs, 60_000);
  assert.equal(link.connectTimeoutMs, 5_000);
  assert.equal(link.syncIntervalMs, 300_000);
  assert.equal(link.failbackIntervalMs, 60_000);
  assert.equal(link.tlsCaPath, undefined);
  assert.equal(link.tlsServerName, undefined);
});

Deno.test("HUB_NODES keeps its priority order, and the timings accept fractions", () => {
  const link = parsePeerConfig({
    HUB_NODES: "n0:50051, 10.0.0.2:50052 ,[::1]:50053",
    HEARTBEAT_INTERVAL_SECONDS: "0.5",
    HEARTBEAT_TIMEOUT_SECONDS: "0.25",
    HEARTBEAT_MAX_MISSED: "3",
    HUB_RETRY_MAX_SECONDS: "2",
    HUB_CONNECT_TIMEOUT_SECONDS: "1.5",
    SYNC_INTERVAL_SECONDS: "10",
    HUB_TLS_CA: "/etc/ca.pem",
    HUB_TLS_SERVER_NAME: "hub.example.org",
  }).hubLink;
  assert.ok(link);
  assert.deepEqual(link.hubs.map((h) => [h.address, h.host, h.port, h.priority]), [
    ["n0:50051", "n0", 50051, 0],
    ["10.0.0.2:50052", "10.0.0.2", 50052, 1],
    ["[::1]:50053", "::1", 50053, 2],
  ]);
  assert.equal(link.heartbeatIntervalMs, 500);
  assert.equal(link.heartbeatTimeoutMs, 250);
  assert.equal(link.heartbeatMaxMissed, 3);
  assert.equal(link.retryMaxMs, 2000);
  assert.equal(link.connectTimeoutMs, 1500);
  assert.equal(link.syncIntervalMs, 10_000);
  assert.equal(link.tlsCaPath, "/etc/ca.pem");
  assert.equal(link.tlsServerName, "hub.example.org");
});

const BAD: [Record<string, string>, string][] = [
  [
    { HUB_NODES: "n0" },
    'Invalid configuration: HUB_NODES="n0": "n0" is not host:port (expected comma-separated host:port entries such as n0.example.org:50051)',
  ],
  [
    { HUB_NODES: "n0:1,bad host:2" },
    'Invalid configuration: HUB_NODES="n0:1,bad host:2": "bad host:2" has a bad host name (expected comma-separated host:port entries such as n0.example.org:50051)',
  ],
  [
    { HUB_NODES: "n0:70000" },
    'Invalid configuration: HUB_NODES="n0:70000": "n0:70000" has a port outside 1-65535 (expected comma-separated host:port entries such as n0.example.org:50051)',
  ],
  [
    { HUB_NODES: "n0:1,n0:1" },
    'Invalid configuration: HUB_NODES="n0:1,n0:1": "n0:1" is listed twice',
  ],
  [
    { HUB_NODES: "n0:1", HEARTBEAT_INTERVAL_SECONDS: "-1" },
    'Invalid configuration: HEARTBEAT_INTERVAL_SECONDS="-1": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
  [
    { HUB_NODES: "n0:1", HEARTBEAT_MAX_MISSED: "0" },
    'Invalid configuration: HEARTBEAT_MAX_MISSED="0": expected a whole number from 1 to 100',
  ],
  [
    { HUB_NODES: "n0:1", HUB_TLS_SERVER_NAME: "not a name" },
    'Invalid configuration: HUB_TLS_SERVER_NAME="not a name": expected a host name such as hub.example.org',
  ],
];

for (const [env, message] of BAD) {
  Deno.test(`a bad value stops the peer with one line: ${JSON.stringify(env)}`, () => {
    assert.throws(() => parsePeerConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, message);
      return true;
    });
  });
}

Deno.test("IP addresses are told apart from host names", () => {
  assert.ok(isIpAddress("127.0.0.1"));
  assert.ok(isIpAddress("::1"));
  assert.ok(!isIpAddress("n0.sorcha.dev"));
  assert.deepEqual(parseHubList("").length, 0);
});

Deno.test("TLS to hubs listed by IP address without HUB_TLS_SERVER_NAME is warned about", () => {
  const link = parsePeerConfig({ HUB_NODES: "127.0.0.1:1,hub:2", HUB_TLS_CA: "/ca.pem" }).hubLink!;
  const [warning, ...rest] = hubLinkWarnings(link);
  assert.match(warning ?? "", /127\.0\.0\.1:1 by IP address with TLS: set HUB_TLS_SERVER_NAME/);
  assert.deepEqual(rest, []);
  const named = parsePeerConfig({
    HUB_NODES: "127.0.0.1:1",
    HUB_TLS_CA: "/ca.pem",
    HUB_TLS_SERVER_NAME: "localhost",
  }).hubLink!;
  assert.deepEqual(hubLinkWarnings(named), []);
});
