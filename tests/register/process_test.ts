/**
 * The register service and the peer as an operator runs them: real
 * processes on loopback ports, a real redis-server, either side killed and
 * restarted while the other runs.
 *
 * Small retry ceilings (`RESYNC_RETRY_MAX_SECONDS=0.5`) keep the waits short;
 * the reconciliation interval stays at its default (300 s, run by Deno.cron)
 * except where a test needs the periodic run; the others call
 * `POST /api/resync`. Nothing sleeps for a fixed time: {@link until} polls the
 * processes' own progress.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { freePort } from "../fixtures/ports.ts";
import { type RedisServer, startRedis } from "../fixtures/redis_server.ts";
import { type ServiceProcess, startService } from "../fixtures/service_process.ts";
import { tempDir, until } from "../fixtures/wait.ts";

const PEER = "peer/main.ts";
const REGISTER = "register/main.ts";

/** Short retries, so a peer coming back is caught within a second or so. */
const FAST_RETRY = { RESYNC_RETRY_MAX_SECONDS: "0.5" };
/** How long a change may take to reach the peer once it is reachable: far below the 300 s interval. */
const WITHIN_BACKOFF_MS = 5_000;

interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
}

async function call(
  base: string | ServiceProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const url = (typeof base === "string" ? base : base.url) + path;
  const res = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const get = (base: string | ServiceProcess, path: string) => call(base, "GET", path);

interface PeerOptions {
  /** Run on Redis; otherwise on SQLite in `dataDir`. */
  redis?: RedisServer;
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
}

function startPeer(options: PeerOptions): Promise<ServiceProcess> {
  return startService(PEER, {
    env: {
      ...(options.redis ? { REDIS_URL: options.redis.url } : { DATA_DIR: options.dataDir! }),
      ...(options.port ? { PORT: String(options.port) } : {}),
      ...options.env,
    },
  });
}

function startRegister(
  dataDir: string,
  peerUrl: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startService(REGISTER, {
    env: { DATA_DIR: dataDir, PEER_URL: peerUrl, ...FAST_RETRY, ...env },
    waitReady: true,
  });
}

interface CreatedRegister {
  id: string;
  isPublic: boolean;
  advertise: boolean;
  latestVersion: number;
  latestDocketVersion: number;
}

async function createRegister(
  register: ServiceProcess,
  body: { name: string; advertise: boolean; isPublic?: boolean },
): Promise<CreatedRegister> {
  const res = await call(register, "POST", "/api/registers", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

interface Available {
  registerId: string;
  isPublic: boolean;
  latestVersion: number;
  latestDocketVersion: number;
  peerCount: number;
  fullReplicaPeerCount: number;
  isLocal: boolean;
}

async function available(peer: string | ServiceProcess): Promise<Available[]> {
  const res = await get(peer, "/api/registers/available");
  assert.equal(res.status, 200);
  return res.body;
}

async function availableIds(peer: string | ServiceProcess): Promise<string[]> {
  return (await available(peer)).map((a) => a.registerId);
}

/** How many local advertisements (public or not) the peer holds. */
async function localCount(peer: string | ServiceProcess): Promise<number> {
  return (await get(peer, "/api/registers/sync-state")).body.localCount;
}

async function resyncStatus(register: ServiceProcess) {
  const res = await get(register, "/api/resync/status");
  assert.equal(res.status, 200);
  return res.body;
}

/** What `available` lists for a local public register. */
function listed(r: CreatedRegister): Available {
  return {
    registerId: r.id,
    isPublic: r.isPublic,
    latestVersion: r.latestVersion,
    latestDocketVersion: r.latestDocketVersion,
    peerCount: 0,
    fullReplicaPeerCount: 0,
    isLocal: true,
  };
}

const byId = (a: { id: string }, b: { id: string }) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
const sortedIds = (registers: { id: string }[]) => [...registers].sort(byId).map((r) => r.id);
const advertKey = (id: string) => `peer:advert:local:${id}`;

Deno.test("registers created while the peer is down reach it within the retry backoff once it starts", async () => {
  await using registerDir = await tempDir("register-data-");
  await using peerDir = await tempDir("peer-data-");
  const peerPort = freePort();
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  await using register = await startRegister(registerDir.path, peerUrl);

  const ready = await get(register, "/readyz");
  assert.equal(ready.status, 200, "ready as soon as its store is open, peer or not");

  const open = await createRegister(register, { name: "Open", advertise: true });
  const closed = await createRegister(register, {
    name: "Closed",
    advertise: true,
    isPublic: false,
  });
  const hidden = await createRegister(register, { name: "Hidden", advertise: false });
  const patched = await call(register, "PATCH", `/api/registers/${open.id}`, {
    latestVersion: 7,
    latestDocketVersion: 3,
  });
  assert.equal(patched.status, 200);
  await until(
    "the register has tried the peer and failed",
    async () => (await resyncStatus(register)).lastStatus === "failed",
  );
  const down = await resyncStatus(register);
  assert.equal(down.retrying, true);
  assert.equal(
    (await get(register, "/readyz")).body.dependencies.peer.state,
    "degraded",
  );

  await using peer = await startPeer({ dataDir: peerDir.path, port: peerPort });
  const expected = [listed({ ...open, latestVersion: 7, latestDocketVersion: 3 })];
  await until(
    "the advertised public register is available on the peer",
    async () => isDeepStrictEqual(await available(peer), expected),
    WITHIN_BACKOFF_MS,
  );
  assert.equal(await localCount(peer), 2, "the private register is advertised too, unlisted");
  const ids = await availableIds(peer);
  assert.ok(!ids.includes(closed.id) && !ids.includes(hidden.id));

  // The peer applies a push before it answers: the register records it a moment later.
  await until(
    "the register recorded the push",
    async () => (await resyncStatus(register)).lastStatus === "succeeded",
  );
  const status = await resyncStatus(register);
  assert.equal(status.lastTrigger, "retry");
  assert.equal(status.registerCount, 2);
  assert.equal(status.lastResult.added, 2);
  assert.equal(status.consecutiveFailures, 0);
  assert.equal(status.retrying, false);
  assert.equal((await get(register, "/readyz")).body.dependencies.peer.state, "ok");
});

Deno.test("a register started against an emptied peer restores its registers with the startup push", async () => {
  await using registerDir = await tempDir("register-data-");
  await using peerDir = await tempDir("peer-data-");
  await using peer = await startPeer({ dataDir: peerDir.path });
  let created: CreatedRegister[];
  {
    await using register = await startRegister(registerDir.path, peer.url);
    created = [
      await createRegister(register, { name: "One", advertise: true }),
      await createRegister(register, { name: "Two", advertise: true }),
      await createRegister(register, { name: "Private", advertise: true, isPublic: false }),
    ];
    await until("the peer holds the three", async () => await localCount(peer) === 3);
    assert.equal(await register.stop("SIGTERM"), 0);
  }

  const emptied = await call(peer, "POST", "/api/registers/bulk-advertise", {
    advertisements: [],
    fullSync: true,
  });
  assert.equal(emptied.status, 200);
  assert.equal(emptied.body.removed, 3);
  assert.deepEqual(await available(peer), []);

  await using register = await startRegister(registerDir.path, peer.url);
  await until("the startup push restored them", async () => await localCount(peer) === 3);
  assert.deepEqual(await availableIds(peer), sortedIds(created.slice(0, 2)));
  await until(
    "the status shows the startup push",
    async () => (await resyncStatus(register)).lastStatus === "succeeded",
  );
  const status = await resyncStatus(register);
  assert.equal(status.lastTrigger, "startup");
  assert.equal(status.lastResult.added, 3);
  assert.equal(status.lastResult.removed, 0);
});

Deno.test("a register killed and restarted leaves the peer serving throughout and re-syncs with nothing added", async () => {
  await using registerDir = await tempDir("register-data-");
  await using peerDir = await tempDir("peer-data-");
  await using peer = await startPeer({ dataDir: peerDir.path });
  let created: CreatedRegister[];
  {
    await using register = await startRegister(registerDir.path, peer.url);
    created = [
      await createRegister(register, { name: "One", advertise: true }),
      await createRegister(register, { name: "Two", advertise: true }),
    ];
    await until(
      "the peer lists both",
      async () => (await availableIds(peer)).length === 2,
    );
    assert.equal(await register.stop("SIGKILL"), 137);
  }
  assert.deepEqual(await availableIds(peer), sortedIds(created), "served right after the kill");

  await using register = await startRegister(registerDir.path, peer.url);
  assert.deepEqual(await availableIds(peer), sortedIds(created), "served while it restarts");
  await until(
    "the restarted register's startup sync succeeded",
    async () => (await resyncStatus(register)).lastStatus === "succeeded",
  );
  const status = await resyncStatus(register);
  assert.equal(status.lastTrigger, "startup");
  assert.equal(status.registerCount, 2);
  assert.deepEqual(status.lastResult, {
    processed: 2,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: 2,
    persisted: true,
  });
  assert.deepEqual(await availableIds(peer), sortedIds(created));
});

Deno.test("a peer on Redis killed and restarted serves the old registers at once and gets the new one within the backoff", async () => {
  await using redis = await startRedis();
  await using registerDir = await tempDir("register-data-");
  let peer = await startPeer({ redis });
  const peerPort = peer.port;
  try {
    await using register = await startRegister(registerDir.path, peer.url);
    const old = [
      await createRegister(register, { name: "One", advertise: true }),
      await createRegister(register, { name: "Two", advertise: true }),
    ];
    await until("the peer lists both", async () => (await availableIds(peer)).length === 2);
    assert.equal(await peer.stop("SIGKILL"), 137);

    const started = Date.now();
    const fresh = await createRegister(register, { name: "Three", advertise: true });
    assert.ok(
      Date.now() - started < 5_000,
      "the creation does not wait for the peer's 10 s timeout",
    );

    peer = await startPeer({ redis, port: peerPort });
    const ids = await availableIds(peer);
    for (const r of old) assert.ok(ids.includes(r.id), `${r.id} served at once from Redis`);
    await until(
      "the register created while the peer was down is available",
      async () => (await availableIds(peer)).includes(fresh.id),
      WITHIN_BACKOFF_MS,
    );
    assert.deepEqual(await availableIds(peer), sortedIds([...old, fresh]));
    // Listed from memory as soon as the push is taken; in Redis once its write is answered, which
    // may come a moment later.
    await until(
      "the new register is in Redis",
      async () => await redis.command("EXISTS", advertKey(fresh.id)) === 1,
      5_000,
    );
  } finally {
    await peer.stop("SIGKILL");
  }
});

Deno.test("registers deleted or set to advertise false while the peer is down are gone from it after the next push", async () => {
  await using registerDir = await tempDir("register-data-");
  await using peerDir = await tempDir("peer-data-");
  let peer = await startPeer({ dataDir: peerDir.path });
  const peerPort = peer.port;
  try {
    await using register = await startRegister(registerDir.path, peer.url);
    const [deleted, unadvertised, kept] = [
      await createRegister(register, { name: "Deleted", advertise: true }),
      await createRegister(register, { name: "Unadvertised", advertise: true }),
      await createRegister(register, { name: "Kept", advertise: true }),
    ];
    await until("the peer lists the three", async () => (await availableIds(peer)).length === 3);
    assert.equal(await peer.stop("SIGKILL"), 137);

    assert.equal((await call(register, "DELETE", `/api/registers/${deleted!.id}`)).status, 200);
    const patched = await call(register, "PATCH", `/api/registers/${unadvertised!.id}`, {
      advertise: false,
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.advertise, false);

    peer = await startPeer({ dataDir: peerDir.path, port: peerPort });
    await until(
      "only the kept register is left on the peer",
      async () =>
        (await localCount(peer)) === 1 &&
        isDeepStrictEqual(await availableIds(peer), [kept!.id]),
      WITHIN_BACKOFF_MS,
    );
    await until("the register recorded the push of the one left", async () => {
      const status = await resyncStatus(register);
      return status.lastStatus === "succeeded" && status.registerCount === 1;
    });
  } finally {
    await peer.stop("SIGKILL");
  }
});

Deno.test("a Redis entry deleted by hand is restored by the next periodic reconciliation", async () => {
  await using redis = await startRedis();
  await using registerDir = await tempDir("register-data-");
  await using peer = await startPeer({ redis });
  await using register = await startRegister(registerDir.path, peer.url, {
    RESYNC_INTERVAL_SECONDS: "0.5",
  });
  const one = await createRegister(register, { name: "One", advertise: true });
  const two = await createRegister(register, { name: "Two", advertise: true, isPublic: false });
  await until(
    "both are in Redis",
    async () => await redis.command("EXISTS", advertKey(one.id), advertKey(two.id)) === 2,
  );
  const value = await redis.command("GET", advertKey(two.id));

  assert.equal(await redis.command("DEL", advertKey(two.id)), 1);
  await until(
    "the deleted entry is back",
    async () => await redis.command("EXISTS", advertKey(two.id)) === 1,
    WITHIN_BACKOFF_MS,
  );
  assert.equal(await redis.command("GET", advertKey(two.id)), value, "restored as it was");
  assert.ok(Number(await redis.command("PTTL", advertKey(two.id))) > 0, "with a lease");
  // The peer writes Redis before it answers: the register records the run a moment later.
  await until("the register recorded a periodic reconciliation", async () => {
    const status = await resyncStatus(register);
    return status.lastTrigger === "interval" && status.lastStatus === "succeeded";
  });
  assert.equal((await resyncStatus(register)).intervalSeconds, 0.5);
});

Deno.test("a reconciliation with no change reports 0/0/0, rewrites no value and renews the leases", async () => {
  await using redis = await startRedis();
  await using registerDir = await tempDir("register-data-");
  await using peer = await startPeer({
    redis,
    env: { ADVERT_TTL_SECONDS: "30", ADVERT_GRACE_SECONDS: "10" },
  });
  await using register = await startRegister(registerDir.path, peer.url);
  const created = [
    await createRegister(register, { name: "One", advertise: true }),
    await createRegister(register, { name: "Two", advertise: true, isPublic: false }),
    await createRegister(register, { name: "Three", advertise: true }),
  ];
  const keys = created.map((r) => advertKey(r.id));
  const first = await call(register, "POST", "/api/resync");
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.lastStatus, "succeeded");
  await until(
    "every key is in Redis",
    async () => await redis.command("EXISTS", ...keys) === keys.length,
  );

  const values = await Promise.all(keys.map((key) => redis.command("GET", key)));
  const shortened = keys[1]!;
  assert.equal(await redis.command("PEXPIRE", shortened, "5000"), 1);
  assert.ok(Number(await redis.command("PTTL", shortened)) <= 5000);

  const again = await call(register, "POST", "/api/resync");
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.lastTrigger, "manual");
  assert.deepEqual(again.body.lastResult, {
    processed: 3,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: 3,
    persisted: true,
  });
  await until(
    "the shortened lease is renewed",
    async () => Number(await redis.command("PTTL", shortened)) > 30_000,
  );
  for (const key of keys) {
    const pttl = Number(await redis.command("PTTL", key));
    assert.ok(pttl > 30_000 && pttl <= 40_000, `${key}: PTTL ${pttl}`);
  }
  assert.deepEqual(
    await Promise.all(keys.map((key) => redis.command("GET", key))),
    values,
    "no value rewritten (lastUpdated unchanged)",
  );
});

Deno.test("a register with a wrong peer token reports the failure and degrades, and succeeds with the right one", async () => {
  await using registerDir = await tempDir("register-data-");
  await using peerDir = await tempDir("peer-data-");
  await using peer = await startPeer({ dataDir: peerDir.path, env: { API_TOKEN: "right-token" } });
  {
    await using register = await startRegister(registerDir.path, peer.url, {
      PEER_API_TOKEN: "wrong-token",
    });
    await until(
      "the startup sync failed",
      async () => (await resyncStatus(register)).lastStatus === "failed",
    );
    const status = await resyncStatus(register);
    assert.match(status.lastError, /bearer token/i);
    assert.equal(status.lastSuccessAt, null);
    assert.ok(status.consecutiveFailures >= 1);
    const ready = await get(register, "/readyz");
    assert.equal(ready.status, 200);
    assert.equal(ready.body.dependencies.peer.state, "degraded");
    assert.match(ready.body.dependencies.peer.lastError, /bearer token/i);
    // The peer's 403 is the register's 503: a 403 here would say the register refused the caller.
    const manual = await call(register, "POST", "/api/resync");
    assert.equal(manual.status, 503);
    assert.equal(manual.body.error.code, "unavailable");
    assert.equal(manual.body.error.details.peerCode, "permission_denied");
    assert.match(manual.body.error.message, /answered 403: .*bearer token is not valid/);
    await register.stop("SIGTERM");
  }

  await using register = await startRegister(registerDir.path, peer.url, {
    PEER_API_TOKEN: "right-token",
  });
  const one = await createRegister(register, { name: "One", advertise: true });
  await until(
    "the sync succeeded",
    async () => (await resyncStatus(register)).lastStatus === "succeeded",
  );
  await until("the peer lists it", async () => (await availableIds(peer)).includes(one.id));
  assert.equal((await get(register, "/readyz")).body.dependencies.peer.state, "ok");
});

Deno.test("a register on the default interval (300 s) schedules its reconciliation with Deno.cron", async () => {
  await using registerDir = await tempDir("register-data-");
  await using register = await startRegister(registerDir.path, `http://127.0.0.1:${freePort()}`);
  const status = await resyncStatus(register);
  assert.equal(status.intervalSeconds, 300);
  assert.equal(status.schedule, "*/5 * * * *");
});
