import assert from "node:assert/strict";
import { ConfigError } from "../../shared/config.ts";
import { parsePeerConfig } from "../../peer/config.ts";

Deno.test("the peer's configuration has the documented defaults", () => {
  const config = parsePeerConfig({});
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8080);
  assert.equal(config.ttlMs, 300_000);
  assert.equal(config.graceMs, 75_000);
  assert.equal(config.redisUrl, undefined);
  assert.equal(config.logLevel, "info");
  assert.equal(config.logFormat, "pretty");
  assert.equal(config.apiToken, undefined);
});

Deno.test("durations accept fractions of a second", () => {
  const config = parsePeerConfig({ ADVERT_TTL_SECONDS: "0.5", ADVERT_GRACE_SECONDS: "0" });
  assert.equal(config.ttlMs, 500);
  assert.equal(config.graceMs, 0);
});

const bad: [Record<string, string>, string][] = [
  [
    { ADVERT_TTL_SECONDS: "-5" },
    'Invalid configuration: ADVERT_TTL_SECONDS="-5": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
  [
    { ADVERT_TTL_SECONDS: "soon" },
    'Invalid configuration: ADVERT_TTL_SECONDS="soon": expected a number of seconds greater than 0, such as 30 or 0.5',
  ],
  [
    { PORT: "70000" },
    'Invalid configuration: PORT="70000": expected a port number from 0 to 65535',
  ],
  [
    { REDIS_URL: "localhost:6379" },
    'Invalid configuration: REDIS_URL="localhost:6379": expected a URL starting with redis:// or rediss://',
  ],
  [
    { LOG_LEVEL: "loud" },
    'Invalid configuration: LOG_LEVEL="loud": expected one of debug, info, warning, error',
  ],
  [{ LOG_FORMAT: "xml" }, 'Invalid configuration: LOG_FORMAT="xml": expected pretty or json'],
  [
    { ADVERT_GRACE_SECONDS: "-1" },
    'Invalid configuration: ADVERT_GRACE_SECONDS="-1": expected a number of seconds from 0, such as 60 or 0.5',
  ],
  [
    { API_TOKEN: "" },
    'Invalid configuration: API_TOKEN="": expected a non-empty token (unset the variable to run without one)',
  ],
  [
    { NETWORK_TOKEN: "  " },
    'Invalid configuration: NETWORK_TOKEN="  ": expected a non-empty token (unset the variable to run without one)',
  ],
];

for (const [env, message] of bad) {
  Deno.test(`a bad ${Object.keys(env)[0]} is refused with one line naming variable, value and expectation`, () => {
    assert.throws(() => parsePeerConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
}

Deno.test("an empty variable falls back to its default", () => {
  assert.equal(parsePeerConfig({ PORT: "", REDIS_URL: "" }).port, 8080);
});
