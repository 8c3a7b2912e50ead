/**
 * The peer's configuration: identity and gossip variables.
 */
import assert from "node:assert/strict";
import { parsePeerConfig } from "../../peer/config.ts";
import { ConfigError } from "../../shared/config.ts";

Deno.test("the peer's gossip defaults are the documented ones", () => {
  const config = parsePeerConfig({ HOST: "127.0.0.1", PORT: "8090" });
  assert.equal(config.peerId, undefined);
  assert.equal(config.publicUrl, "http://127.0.0.1:8090");
  assert.deepEqual(config.gossipSeeds, []);
  assert.equal(config.gossipIntervalMs, 30_000);
  assert.equal(config.networkToken, undefined);
});

Deno.test("PEER_ID, PUBLIC_URL, GOSSIP_SEEDS and NETWORK_TOKEN are read", () => {
  const config = parsePeerConfig({
    PEER_ID: "node-a_1",
    PUBLIC_URL: "https://a.example:9443/",
    GOSSIP_SEEDS: " http://127.0.0.1:8081/ ,http://127.0.0.1:8082,, ",
    GOSSIP_INTERVAL_SECONDS: "0.5",
    NETWORK_TOKEN: "net",
  });
  assert.equal(config.peerId, "node-a_1");
  assert.equal(config.publicUrl, "https://a.example:9443");
  assert.deepEqual(config.gossipSeeds, ["http://127.0.0.1:8081", "http://127.0.0.1:8082"]);
  assert.equal(config.gossipIntervalMs, 500);
  assert.equal(config.networkToken, "net");
});

const BAD: [Record<string, string>, string][] = [
  [
    { PEER_ID: "node a" },
    'Invalid configuration: PEER_ID="node a": expected 1 to 64 of A-Z a-z 0-9 _ -',
  ],
  [
    { PUBLIC_URL: "a.example:80" },
    'Invalid configuration: PUBLIC_URL="a.example:80": expected a URL starting with http:// or https://',
  ],
  [
    { GOSSIP_SEEDS: "http://127.0.0.1:8081,127.0.0.1:8082" },
    'Invalid configuration: GOSSIP_SEEDS="http://127.0.0.1:8081,127.0.0.1:8082": "127.0.0.1:8082" is not a URL starting with http:// or https:// (expected comma-separated URLs)',
  ],
  [
    { GOSSIP_INTERVAL_SECONDS: "0" },
    'Invalid configuration: GOSSIP_INTERVAL_SECONDS="0": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
];

for (const [env, message] of BAD) {
  Deno.test(`${Object.keys(env)[0]}=${Object.values(env)[0]} is refused with one line`, () => {
    assert.throws(() => parsePeerConfig(env), new ConfigError(message));
  });
}
