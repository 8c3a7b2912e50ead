/**
 * Gossip between peers as operators run them: real peer processes (alpha,
 * bravo, charlie) with explicit PUBLIC_URLs, NETWORK_TOKEN set and a 1 s
 * gossip interval, each on its own database of one real redis-server
 * (`REDIS_URL=redis://127.0.0.1:PORT/1`, `/2`, `/3`: keys are not namespaced
 * per peer, so two peers must never share a database).
 *
 * Ports are picked before any peer starts, so seeds can point at peers not
 * started yet. Nothing sleeps for a fixed time: {@link until} polls the
 * processes' own progress. The rogue peers are the test itself, signing with
 * keys of its own ({@link PeerSigner}).
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { advertisementsDigest, PeerSigner } from "../../peer/gossip/signing.ts";
import type { AvailableRegisterInfo } from "../../shared/contracts/advertisements.ts";
import {
  GOSSIP_PROTOCOL,
  type GossipAdvertisement,
  type RecordHeader,
} from "../../shared/contracts/gossip.ts";
import { freePort } from "../fixtures/ports.ts";
import { type RedisServer, startRedis } from "../fixtures/redis_server.ts";
import { type ServiceProcess, startService } from "../fixtures/service_process.ts";
import { tempDir, until } from "../fixtures/wait.ts";
import { redisLikeListener } from "./gossip_proof_fixtures.ts";
import { rid } from "./helpers.ts";

const PEER = "peer/main.ts";
const NETWORK_TOKEN = "network-secret";
const INTERVAL_SECONDS = 1;
/**
 * "Within two gossip intervals": 2 × 1 s, plus at most 0.5 s of tolerance for
 * process scheduling (the round's jitter of up to a tenth of the interval, the
 * exchange and push themselves, and four processes sharing a CI machine's cores).
 */
const TWO_INTERVALS_MS = 2 * INTERVAL_SECONDS * 1000 + 500;

interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
}

async function call(
  peer: ServiceProcess,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(peer.url + path, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const get = (peer: ServiceProcess, path: string) => call(peer, "GET", path);

/** Where a peer runs: chosen before it starts, so others can name it as a seed. */
interface Site {
  /** Its PEER_ID. */
  id: string;
  port: number;
  /** Its PUBLIC_URL. */
  url: string;
  /** Its own database on the shared redis-server. */
  db: number;
  /** Its DATA_DIR (key pair, peers.json), kept across restarts. */
  dataDir: string;
}

async function site(id: string, db: number): Promise<Site & AsyncDisposable> {
  const dir = await tempDir(`peer-${id}-`);
  const port = freePort();
  return {
    id,
    port,
    url: `http://127.0.0.1:${port}`,
    db,
    dataDir: dir.path,
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

function startPeer(
  redis: RedisServer,
  peer: Site,
  seeds: Site[],
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  return startService(PEER, {
    env: {
      PEER_ID: peer.id,
      PORT: String(peer.port),
      PUBLIC_URL: peer.url,
      REDIS_URL: `${redis.url}/${peer.db}`,
      DATA_DIR: peer.dataDir,
      NETWORK_TOKEN,
      GOSSIP_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
      GOSSIP_SEEDS: seeds.map((seed) => seed.url).join(","),
      ...env,
    },
  });
}

/** Runs one command on database `db` (the fixture's own connections use database 0). */
function inDb(redis: RedisServer, db: number, ...args: string[]) {
  return redis.command(
    "EVAL",
    "redis.call('SELECT', ARGV[1]) return redis.call(unpack(ARGV, 2))",
    "0",
    String(db),
    ...args,
  );
}

async function keysIn(redis: RedisServer, db: number, pattern: string): Promise<string[]> {
  return ((await inDb(redis, db, "KEYS", pattern)) as string[]).sort();
}

const remoteKey = (peerId: string, registerId: string) =>
  `peer:advert:remote:${peerId}:${registerId}`;

/** One entry of `GET /api/registers/available`. */
type Available = AvailableRegisterInfo;

async function available(peer: ServiceProcess): Promise<Available[]> {
  const res = await get(peer, "/api/registers/available");
  assert.equal(res.status, 200);
  return res.body;
}

async function availableIds(peer: ServiceProcess): Promise<string[]> {
  return (await available(peer)).map((a) => a.registerId);
}

/** How `available` lists a public register one other peer advertises. */
function remote(registerId: string, latestVersion = 0): Available {
  return {
    registerId,
    peerCount: 1,
    latestVersion,
    latestDocketVersion: 0,
    isPublic: true,
    fullReplicaPeerCount: 0,
    isLocal: false,
  };
}

async function advertise(
  peer: ServiceProcess,
  registerId: string,
  body: { isPublic: boolean; latestVersion?: number },
): Promise<void> {
  const res = await call(peer, "POST", `/api/registers/${registerId}/advertise`, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

interface KnownPeer {
  peerId: string | null;
  url: string;
  seed: boolean;
  status: string;
  recordIssuedAt: string | null;
}

async function knownPeers(peer: ServiceProcess): Promise<KnownPeer[]> {
  const res = await get(peer, "/api/peers");
  assert.equal(res.status, 200);
  return res.body.peers;
}

async function knows(peer: ServiceProcess, other: Site): Promise<KnownPeer | undefined> {
  return (await knownPeers(peer)).find((p) => p.peerId === other.id && p.url === other.url);
}

/**
 * Waits until `check` holds, failing once `limitMs` have passed since `since`
 * (a `performance.now()` reading); returns the time it took.
 */
async function untilWithin(
  what: string,
  since: number,
  limitMs: number,
  check: () => Promise<boolean>,
): Promise<number> {
  await until(what, check, Math.max(0, limitMs - (performance.now() - since)));
  const took = performance.now() - since;
  assert.ok(took <= limitMs, `${what}: took ${Math.round(took)} ms, more than ${limitMs} ms`);
  return took;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function gossip(
  peer: ServiceProcess,
  kind: "exchange" | "push",
  body: unknown,
  headers: Record<string, string> = bearer(NETWORK_TOKEN),
): Promise<Answer> {
  return call(peer, "POST", `/api/gossip/${kind}`, body, headers);
}

/** A header signed by `signer`, for whatever peer id it claims. */
async function header(
  signer: PeerSigner,
  peerId: string,
  url: string,
  ads: GossipAdvertisement[],
  publicKey = signer.publicKey,
): Promise<RecordHeader> {
  return await signer.sign({
    peerId,
    url,
    publicKey,
    issuedAt: Date.now(),
    adsDigest: await advertisementsDigest(ads),
    adsCount: ads.length,
  });
}

function ad(registerId: string, latestVersion = 1): GossipAdvertisement {
  return { registerId, syncState: "Active", latestVersion, latestDocketVersion: 0 };
}

/** A URL nothing listens on, for the rogue senders (the peer may try to call them back). */
const nowhere = () => `http://127.0.0.1:${freePort()}`;

Deno.test("a peer seeded with one other comes to know every peer through exchanges", async () => {
  await using redis = await startRedis();
  await using alpha = await site("alpha", 1);
  await using bravo = await site("bravo", 2);
  await using charlie = await site("charlie", 3);
  // Nobody names charlie as a seed; charlie names only alpha.
  await using a = await startPeer(redis, alpha, [bravo]);
  await using b = await startPeer(redis, bravo, [alpha]);
  await using c = await startPeer(redis, charlie, [alpha]);

  await until("charlie lists bravo and has reached it", async () => {
    const known = await knows(c, bravo);
    return known?.status === "ok";
  });
  const learned = (await knows(c, bravo))!;
  assert.equal(learned.seed, false, "learned from a record, not configured");
  await until("bravo lists charlie", async () => (await knows(b, charlie)) !== undefined);
  await until("alpha lists charlie", async () => (await knows(a, charlie)) !== undefined);

  const self = (await get(c, "/api/peers")).body;
  assert.equal(self.self.peerId, "charlie");
  assert.equal(self.self.url, charlie.url);
  assert.equal(self.intervalSeconds, INTERVAL_SECONDS);
  const seed = self.peers.find((p: KnownPeer) => p.url === alpha.url);
  assert.ok(seed, "charlie still lists its seed");
  assert.equal(seed.peerId, "alpha", "the seed got its id from its signed answer");
  assert.equal(seed.seed, true);
  assert.equal(self.peers.length, 2, "no duplicate entries for one peer");
});

Deno.test("public registers reach the other peers within two gossip intervals, private ones never, withdrawals too", async () => {
  await using redis = await startRedis();
  await using alpha = await site("alpha", 1);
  await using bravo = await site("bravo", 2);
  await using charlie = await site("charlie", 3);
  await using a = await startPeer(redis, alpha, [bravo]);
  await using b = await startPeer(redis, bravo, [charlie]);
  await using c = await startPeer(redis, charlie, [alpha]);
  const views = [[a, [bravo, charlie]], [b, [alpha, charlie]], [c, [alpha, bravo]]] as const;
  await until("every peer has reached the other two", async () => {
    for (const [peer, others] of views) {
      for (const other of others) if ((await knows(peer, other))?.status !== "ok") return false;
    }
    return true;
  });

  const [open, other, closed] = [rid(1), rid(2), rid(3)];
  // The private one first: any record that carries the public ones was issued after it.
  await advertise(a, closed, { isPublic: false });
  const advertisedAt = performance.now();
  await advertise(a, open, { isPublic: true, latestVersion: 3 });
  await advertise(a, other, { isPublic: true });
  const expected = [remote(open, 3), remote(other)];
  await untilWithin(
    "alpha's public registers are available on bravo",
    advertisedAt,
    TWO_INTERVALS_MS,
    async () => isDeepStrictEqual(await available(b), expected),
  );
  await until(
    "alpha's public registers are available on charlie",
    async () => isDeepStrictEqual(await available(c), expected),
  );

  assert.equal(await inDb(redis, alpha.db, "EXISTS", `peer:advert:local:${closed}`), 1);
  for (const [peer, where] of [[b, bravo], [c, charlie]] as const) {
    assert.ok(
      !(await availableIds(peer)).includes(closed),
      `${where.id} lists no private register`,
    );
    assert.equal(await inDb(redis, where.db, "EXISTS", remoteKey("alpha", closed)), 0);
    assert.deepEqual(await keysIn(redis, where.db, `*${closed}*`), [], `${where.id} stores none`);
    assert.deepEqual(await keysIn(redis, where.db, "peer:advert:remote:alpha:*"), [
      remoteKey("alpha", open),
      remoteKey("alpha", other),
    ]);
  }

  const withdrawnAt = performance.now();
  const withdrawn = await call(a, "DELETE", `/api/registers/${other}/advertise`);
  assert.equal(withdrawn.status, 200);
  await untilWithin(
    "the withdrawn register is gone from bravo",
    withdrawnAt,
    TWO_INTERVALS_MS,
    async () => isDeepStrictEqual(await available(b), [remote(open, 3)]),
  );
  await until(
    "bravo's Redis holds only the one left",
    async () =>
      isDeepStrictEqual(await keysIn(redis, bravo.db, "peer:advert:remote:*"), [
        remoteKey("alpha", open),
      ]),
  );
  await until(
    "the withdrawn register is gone from charlie",
    async () => isDeepStrictEqual(await available(c), [remote(open, 3)]),
  );
});

Deno.test("a peer restarted while the owner is down serves its registers at once, until their lease from the record's issue time ends", async () => {
  // TTL 6 s and the default grace (a quarter of it): a lease of 7.5 s, long
  // enough for a restart on a loaded machine, short enough to wait out.
  const lifetime = { ADVERT_TTL_SECONDS: "6" };
  const leaseMs = 7_500;
  await using redis = await startRedis();
  await using alpha = await site("alpha", 1);
  await using bravo = await site("bravo", 2);
  const expected = [remote(rid(1), 4), remote(rid(2))];
  let expiresAt: number;
  {
    await using a = await startPeer(redis, alpha, [bravo], lifetime);
    await using b = await startPeer(redis, bravo, [alpha], lifetime);
    assert.equal((await get(b, "/api/registers/sync-state")).body.leaseSeconds, leaseMs / 1000);
    await advertise(a, rid(1), { isPublic: true, latestVersion: 4 });
    await advertise(a, rid(2), { isPublic: true });
    await until(
      "bravo lists alpha's registers",
      async () => isDeepStrictEqual(await available(b), expected),
    );
    assert.equal(await a.stop("SIGKILL"), 137);
    // Alpha is gone: the record bravo holds is the last one alpha issued. Its
    // lease renewal reaches Redis in the background: wait until Redis holds
    // that lease, counted from the record's issue time (to within the few ms
    // a write and a read take; an older record's lease ends a second or more
    // earlier).
    expiresAt = 0;
    await until("bravo's Redis holds the lease of alpha's last record", async () => {
      const issuedAt = (await knows(b, alpha))?.recordIssuedAt;
      if (!issuedAt) return false;
      expiresAt = Date.parse(issuedAt) + leaseMs;
      for (const registerId of [rid(1), rid(2)]) {
        const before = Date.now();
        const pttl = Number(await inDb(redis, bravo.db, "PTTL", remoteKey("alpha", registerId)));
        if (Math.abs(before + pttl - expiresAt) > 100) return false;
      }
      return true;
    });
    assert.equal(await b.stop("SIGKILL"), 137);
  }

  await using b = await startPeer(redis, bravo, [alpha], lifetime);
  assert.deepEqual(
    await available(b),
    expected,
    `served at once from Redis (${expiresAt - Date.now()} ms of their lease left)`,
  );

  let goneAt = 0;
  await until("alpha's registers leave bravo", async () => {
    const list = await available(b);
    goneAt = Date.now();
    return list.length === 0;
  }, expiresAt - Date.now() + 5_000);
  // Gone no earlier than the lease's end: the answer came after the peer
  // decided, and the lease it loaded from Redis ends no earlier than the one
  // it wrote; 10 ms cover clock readings in whole ms.
  assert.ok(
    goneAt >= expiresAt - 10,
    `gone ${expiresAt - goneAt} ms before the lease from alpha's last record ended`,
  );
  await until(
    "their Redis keys are gone",
    async () => (await keysIn(redis, bravo.db, "peer:advert:remote:alpha:*")).length === 0,
  );
});

Deno.test("a peer refuses another peer's id with another key, sent or relayed, and keeps the owner's registers", async () => {
  await using redis = await startRedis();
  await using alpha = await site("alpha", 1);
  await using bravo = await site("bravo", 2);
  await using a = await startPeer(redis, alpha, [bravo]);
  await using b = await startPeer(redis, bravo, [alpha]);
  await advertise(a, rid(1), { isPublic: true, latestVersion: 2 });
  await advertise(a, rid(2), { isPublic: true });
  const expected = [remote(rid(1), 2), remote(rid(2))];
  await until(
    "bravo lists alpha's registers",
    async () => isDeepStrictEqual(await available(b), expected),
  );
  const alphaKeys = [remoteKey("alpha", rid(1)), remoteKey("alpha", rid(2))];
  const unchanged = async (what: string) => {
    assert.deepEqual(await available(b), expected, `${what}: bravo's view of alpha`);
    assert.deepEqual(await keysIn(redis, bravo.db, "peer:advert:remote:*"), alphaKeys, what);
  };

  // A rogue claims alpha's id with a key of its own and an empty set.
  const rogue = await PeerSigner.generate();
  const claimed = await header(rogue, "alpha", nowhere(), []);
  const exchange = await gossip(b, "exchange", {
    protocol: GOSSIP_PROTOCOL,
    from: claimed,
    digest: [],
  });
  assert.equal(exchange.status, 403, JSON.stringify(exchange.body));
  assert.equal(exchange.body.error.code, "permission_denied");
  assert.match(
    exchange.body.error.message,
    /"alpha" is already known here with another public key/,
  );
  const push = await gossip(b, "push", {
    protocol: GOSSIP_PROTOCOL,
    from: claimed,
    records: [{ header: claimed, advertisements: [] }],
  });
  assert.equal(push.status, 403, JSON.stringify(push.body));
  assert.equal(push.body.error.code, "permission_denied");
  await unchanged("after the rogue's exchange and push as alpha");

  // Mallory speaks as itself (a valid key of its own) and relays a record for alpha it signed.
  const mallory = await PeerSigner.generate();
  const forgedSet = [ad(rid(9), 7)];
  const relayed = await gossip(b, "push", {
    protocol: GOSSIP_PROTOCOL,
    from: await header(mallory, "mallory", nowhere(), []),
    records: [{
      header: await header(mallory, "alpha", alpha.url, forgedSet),
      advertisements: forgedSet,
    }],
  });
  assert.equal(relayed.status, 200, JSON.stringify(relayed.body));
  assert.equal(relayed.body.accepted, 0);
  assert.deepEqual(relayed.body.rejected.map((r: { peerId: string }) => r.peerId), ["alpha"]);
  assert.match(relayed.body.rejected[0].reason, /another public key/);

  // A record carrying alpha's real key but signed by mallory does not verify: the whole message is refused.
  const alphaKey = (await get(a, "/api/peers")).body.self.publicKey;
  const misSigned = await gossip(b, "push", {
    protocol: GOSSIP_PROTOCOL,
    from: await header(mallory, "mallory", nowhere(), []),
    records: [{
      header: await header(mallory, "alpha", alpha.url, forgedSet, alphaKey),
      advertisements: forgedSet,
    }],
  });
  assert.equal(misSigned.status, 400, JSON.stringify(misSigned.body));
  assert.equal(misSigned.body.error.code, "invalid_argument");
  assert.match(misSigned.body.error.message, /signature does not verify/);

  await unchanged("after mallory's relayed records");
  assert.equal(await inDb(redis, bravo.db, "EXISTS", remoteKey("alpha", rid(9))), 0);
  // Alpha's own next records are still taken: a new register of it arrives.
  await advertise(a, rid(3), { isPublic: true });
  await until(
    "alpha's new register reaches bravo",
    async () => isDeepStrictEqual(await availableIds(b), [rid(1), rid(2), rid(3)]),
  );
});

Deno.test("the gossip endpoints need NETWORK_TOKEN and a well-formed message, and store nothing otherwise", async () => {
  await using redis = await startRedis();
  await using bravo = await site("bravo", 1);
  await using b = await startPeer(redis, bravo, []);
  const november = await PeerSigner.generate();
  const url = nowhere();
  const set = [ad(rid(5))];
  const from = await header(november, "november", url, set);
  const valid = {
    protocol: GOSSIP_PROTOCOL,
    from,
    records: [{ header: from, advertisements: set }],
  };
  const exchange = { protocol: GOSSIP_PROTOCOL, from, digest: [] };

  for (const [kind, body] of [["exchange", exchange], ["push", valid]] as const) {
    const without = await gossip(b, kind, body, {});
    assert.equal(without.status, 401, `${kind} without a token: ${JSON.stringify(without.body)}`);
    assert.equal(without.body.error.code, "unauthenticated");
    assert.match(without.body.error.message, /NETWORK_TOKEN/);
    const wrong = await gossip(b, kind, body, bearer("not-the-network-token"));
    assert.equal(wrong.status, 403, `${kind} with a wrong token: ${JSON.stringify(wrong.body)}`);
    assert.equal(wrong.body.error.code, "permission_denied");
  }

  const other = await PeerSigner.generate();
  const otherSet = [ad(rid(6))];
  const malformed: [string, unknown][] = [
    ["not JSON", "{"],
    ["no sender", { protocol: GOSSIP_PROTOCOL, records: valid.records }],
    ["another protocol", { ...valid, protocol: 2 }],
    ["a set that does not match its digest (after a good record)", {
      ...valid,
      records: [
        ...valid.records,
        { header: await header(other, "oscar", nowhere(), otherSet), advertisements: [ad(rid(7))] },
      ],
    }],
    ["a record listed twice", { ...valid, records: [...valid.records, ...valid.records] }],
  ];
  for (const [what, body] of malformed) {
    const res = await gossip(b, "push", body);
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, "invalid_argument", what);
  }

  assert.deepEqual(await available(b), [], "nothing taken");
  assert.deepEqual(await keysIn(redis, bravo.db, "peer:advert:remote:*"), [], "nothing stored");
  assert.deepEqual(await knownPeers(b), [], "no sender learned");

  // The same message with the token is taken: the refusals were for the token and the form alone.
  const taken = await gossip(b, "push", valid);
  assert.equal(taken.status, 200, JSON.stringify(taken.body));
  assert.deepEqual(taken.body, { accepted: 1, ignored: 0, rejected: [] });
  assert.deepEqual(await available(b), [remote(rid(5), 1)]);
  assert.equal(await inDb(redis, bravo.db, "EXISTS", remoteKey("november", rid(5))), 1);
});

Deno.test("a record announcing a URL where no peer answers never gets the network token from a peer process", async () => {
  await using redis = await startRedis();
  await using bravo = await site("bravo", 1);
  await using b = await startPeer(redis, bravo, []);
  await using hostile = redisLikeListener();
  const mallory = await PeerSigner.generate();
  const from = await header(mallory, "mallory", hostile.url, []);
  const pushed = await gossip(b, "push", {
    protocol: GOSSIP_PROTOCOL,
    from,
    records: [{ header: from, advertisements: [] }],
  });
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));

  const mallorysError = async () =>
    (await get(b, "/api/peers")).body.peers.find(
      (p: { peerId: string | null }) => p.peerId === "mallory",
    )?.lastError as string | null | undefined;
  await until(
    "bravo has contacted mallory's URL, and failed",
    async () => hostile.received.length > 0 && Boolean(await mallorysError()),
  );
  assert.ok(hostile.received.length >= 1);
  for (const bytes of hostile.received) {
    assert.match(bytes, /^GET \/api\/gossip\/challenge\?nonce=[A-Za-z0-9_-]{43} HTTP\/1\.1\r\n/);
    assert.ok(!bytes.includes(NETWORK_TOKEN), bytes);
    assert.ok(!/authorization/i.test(bytes), bytes);
  }
  assert.match((await mallorysError())!, /no valid answer to a challenge/);
});
