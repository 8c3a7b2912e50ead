/**
 * The peer as an operator runs it: real processes, a real redis-server,
 * killed and restarted.
 */
import assert from "node:assert/strict";
import { startRedis } from "../fixtures/redis_server.ts";
import { runToExit, type ServiceProcess, startService } from "../fixtures/service_process.ts";
import { until } from "../fixtures/wait.ts";
import { item, rid } from "./helpers.ts";

const PEER = "peer/main.ts";

async function post(peer: ServiceProcess, path: string, body: unknown) {
  const res = await fetch(peer.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function get(peer: ServiceProcess, path: string) {
  const res = await fetch(peer.url + path);
  return { status: res.status, body: await res.json() };
}

async function availableIds(peer: ServiceProcess): Promise<string[]> {
  return (await get(peer, "/api/registers/available")).body.map((r: { registerId: string }) =>
    r.registerId
  );
}

const FIVE = [item(1), item(2), item(3), item(4), item(5, { latestVersion: 12 })];

Deno.test("a peer on Redis killed and restarted serves every advertisement again", async () => {
  await using redis = await startRedis();
  const env = { REDIS_URL: redis.url };
  let port: number;
  {
    await using peer = await startService(PEER, { env });
    port = peer.port;
    const res = await post(peer, "/api/registers/bulk-advertise", {
      advertisements: [...FIVE, item(6, { isPublic: false })],
      fullSync: true,
    });
    assert.equal(res.body.added, 6);
    assert.equal(res.body.persisted, true);
    assert.equal(await peer.stop("SIGKILL"), 137);
  }
  assert.equal(await redis.command("EXISTS", `peer:advert:local:${rid(1)}`), 1);
  await using restarted = await startService(PEER, { env: { ...env, PORT: String(port) } });
  assert.deepEqual(await availableIds(restarted), [rid(1), rid(2), rid(3), rid(4), rid(5)]);
  const state = (await get(restarted, "/api/registers/sync-state")).body;
  assert.equal(state.localCount, 6);
  assert.equal(state.lastFullSync.counts.added, 6);
});

Deno.test("a peer on the embedded store killed and restarted serves every advertisement again", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "peer-data-" });
  try {
    const env = { DATA_DIR: dataDir };
    {
      await using peer = await startService(PEER, { env });
      await post(peer, "/api/registers/bulk-advertise", { advertisements: FIVE, fullSync: true });
      await peer.stop("SIGKILL");
    }
    await using restarted = await startService(PEER, { env });
    assert.deepEqual(await availableIds(restarted), FIVE.map((i) => i.registerId));
    const ready = await get(restarted, "/readyz");
    assert.equal(ready.body.dependencies.store.kind, "sqlite");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a peer keeps serving while Redis is down and writes what changed once it is back", async () => {
  await using redis = await startRedis();
  const env = { REDIS_URL: redis.url };
  await using peer = await startService(PEER, { env });
  await post(peer, "/api/registers/bulk-advertise", { advertisements: FIVE, fullSync: true });
  await redis.stop({ keepData: true });

  const res = await post(peer, "/api/registers/bulk-advertise", {
    advertisements: [item(1), item(2, { latestVersion: 9 }), item(7)],
    fullSync: true,
  });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, {
    processed: 3,
    added: 1,
    updated: 1,
    removed: 3,
    unchanged: 1,
    persisted: false,
  });
  const degraded = await get(peer, "/readyz");
  assert.equal(degraded.status, 200);
  assert.equal(degraded.body.dependencies.store.state, "degraded");
  assert.deepEqual(await availableIds(peer), [rid(1), rid(2), rid(7)]);

  await redis.start();
  await until(
    "the store is ok again",
    async () => (await get(peer, "/readyz")).body.dependencies.store.state === "ok",
  );
  assert.equal(await redis.command("EXISTS", `peer:advert:local:${rid(3)}`), 0, "removal written");
  assert.equal(await redis.command("EXISTS", `peer:advert:local:${rid(7)}`), 1, "addition written");
  const two = JSON.parse(String(await redis.command("GET", `peer:advert:local:${rid(2)}`)));
  assert.equal(two.latestVersion, 9, "change written");

  await peer.stop("SIGKILL");
  await using restarted = await startService(PEER, { env });
  assert.deepEqual(await availableIds(restarted), [rid(1), rid(2), rid(7)]);
  const state = (await get(restarted, "/api/registers/sync-state")).body;
  assert.equal(state.lastFullSync.outcome, "memory-only");
  assert.equal(state.lastFullSync.counts.removed, 3);
});

Deno.test("a peer started while Redis is down serves, then loads Redis's advertisements when it comes up", async () => {
  await using redis = await startRedis();
  const env = { REDIS_URL: redis.url };
  {
    await using peer = await startService(PEER, { env });
    await post(peer, "/api/registers/bulk-advertise", { advertisements: FIVE });
    await peer.stop("SIGKILL");
  }
  await redis.stop({ keepData: true });
  await using peer = await startService(PEER, { env });
  const ready = await get(peer, "/readyz");
  assert.equal(ready.status, 200);
  assert.equal(ready.body.dependencies.store.state, "degraded");
  await post(peer, "/api/registers/bulk-advertise", { advertisements: [item(8)] });
  await redis.start();
  await until(
    "the store is ok again",
    async () => (await get(peer, "/readyz")).body.dependencies.store.state === "ok",
  );
  assert.deepEqual(await availableIds(peer), [...FIVE.map((i) => i.registerId), rid(8)]);
  assert.equal(await redis.command("EXISTS", `peer:advert:local:${rid(8)}`), 1);
});

Deno.test("re-advertising unchanged registers renews their Redis TTL without writing values", async () => {
  await using redis = await startRedis();
  await using peer = await startService(PEER, { env: { REDIS_URL: redis.url } });
  await post(peer, "/api/registers/bulk-advertise", { advertisements: FIVE, fullSync: true });
  const key = `peer:advert:local:${rid(3)}`;
  const value = await redis.command("GET", key);
  await redis.command("PEXPIRE", key, "5000");
  const setsBefore = setCalls(String(await redis.command("INFO", "commandstats")));
  const res = await post(peer, "/api/registers/bulk-advertise", {
    advertisements: FIVE,
    fullSync: true,
  });
  assert.equal(res.body.unchanged, 5);
  await until("the TTL is renewed", async () => Number(await redis.command("PTTL", key)) > 300_000);
  assert.equal(await redis.command("GET", key), value, "the value was not rewritten");
  assert.equal(
    setCalls(String(await redis.command("INFO", "commandstats"))),
    setsBefore + 1,
    "only the full-sync record was set",
  );
});

function setCalls(commandstats: string): number {
  return Number(commandstats.match(/cmdstat_set:calls=(\d+)/)?.[1] ?? 0);
}

Deno.test("a peer given a bad setting refuses to start with one line naming it", async () => {
  const out = await runToExit(PEER, { ADVERT_TTL_SECONDS: "-1" });
  assert.equal(out.code, 1);
  assert.equal(
    out.stderr.trim(),
    'Invalid configuration: ADVERT_TTL_SECONDS="-1": expected a number of seconds greater than 0, such as 30 or 0.5',
  );
});

Deno.test("a peer stops cleanly on SIGTERM", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "peer-data-" });
  try {
    const peer = await startService(PEER, { env: { DATA_DIR: dataDir } });
    assert.equal(await peer.stop("SIGTERM"), 0);
    assert.match(peer.stderr(), /peer stopped/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
