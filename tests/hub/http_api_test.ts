/**
 * The hub's HTTP endpoints through `app.request()`: the system register's
 * state, publishing (checksums, notifications, API_TOKEN, validation),
 * listing and reading entries, the connected peers, node info, readiness and
 * the OpenAPI document.
 */
import assert from "node:assert/strict";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { Heartbeat } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { GENESIS_BLUEPRINT_ID } from "../../hub/system_register/genesis.ts";
import { ManualClock } from "../../shared/clock.ts";
import { createClient } from "../../shared/grpc/mod.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { callApp, type CallResult } from "../fixtures/http.ts";
import {
  NotificationType,
  publishBlueprint,
  sha256Checksum,
  startTestHub,
  Subscription,
  type TestHub,
} from "./hub_fixture.ts";

const SYSTEM_REGISTER_ID = "00000000-0000-0000-0000-000000000000";
const BLUEPRINTS = "/api/system-register/blueprints";
const encoder = new TextEncoder();

function get(hub: TestHub, path: string): Promise<CallResult> {
  return callApp(hub.app, { method: "GET", path });
}

function publish(
  hub: TestHub,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  return callApp(hub.app, { method: "POST", path: BLUEPRINTS, body, headers });
}

async function currentVersion(hub: TestHub): Promise<number> {
  const res = await get(hub, "/api/system-register");
  assert.equal(res.status, 200);
  return res.body.currentVersion;
}

Deno.test("GET /api/system-register gives the register id, blueprint count, current version and intact integrity", async () => {
  await using hub = await startTestHub();

  const fresh = await get(hub, "/api/system-register");
  assert.equal(fresh.status, 200);
  assert.equal(fresh.body.registerId, SYSTEM_REGISTER_ID);
  assert.equal(fresh.body.blueprintCount, 1, "genesis");
  assert.equal(fresh.body.entryCount, 1);
  assert.equal(fresh.body.currentVersion, 1);
  assert.equal(fresh.body.store, "sqlite");
  assert.equal(fresh.body.integrity.state, "intact");
  assert.equal(fresh.body.integrity.entries, 1);
  assert.equal(typeof fresh.body.lastPublishedAt, "string");

  await publishBlueprint(hub, "bp-a");
  await publishBlueprint(hub, "bp-a", { revision: 2 });
  const after = await get(hub, "/api/system-register");
  assert.equal(after.body.blueprintCount, 2, "genesis and bp-a");
  assert.equal(after.body.entryCount, 3, "bp-a's first version is kept, inactive");
  assert.equal(after.body.currentVersion, 3);
});

Deno.test("POST /api/system-register/blueprints stores a version with the sha256 of the document's JSON and notifies PUBLISHED, then UPDATED", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  await using subscription = new Subscription(channel, { peerId: "peer-1" });
  await subscription.subscribed();

  const document = { title: "Land title transfer", actions: [{ id: 0, title: "Offer" }], n: 1.5 };
  const first = await publish(hub, {
    blueprintId: "land-transfer",
    document,
    publishedBy: "alice",
    metadata: { category: "property" },
  });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(first.body.blueprintId, "land-transfer");
  assert.equal(first.body.version, 2);
  assert.equal(first.body.checksum, sha256Checksum(encoder.encode(JSON.stringify(document))));
  assert.match(first.body.checksum, /^sha256:[0-9a-f]{64}$/);
  assert.equal(first.body.publishedBy, "alice");
  assert.equal(first.body.notification, "BLUEPRINT_PUBLISHED");
  assert.ok(!Number.isNaN(Date.parse(first.body.publishedAt)));

  const revised = { ...document, n: 2 };
  const second = await publish(hub, { blueprintId: "land-transfer", document: revised });
  assert.equal(second.status, 201);
  assert.equal(second.body.version, 3);
  assert.equal(second.body.notification, "BLUEPRINT_UPDATED");
  assert.equal(second.body.publishedBy, "operator", "the default publisher");
  assert.notEqual(second.body.checksum, first.body.checksum);

  await subscription.eventCount(2);
  assert.deepEqual(
    subscription.events.map((e) => [e.blueprintId, e.version, e.type, e.checksum]),
    [
      ["land-transfer", 2n, NotificationType.BLUEPRINT_PUBLISHED, first.body.checksum],
      ["land-transfer", 3n, NotificationType.BLUEPRINT_UPDATED, second.body.checksum],
    ],
  );

  const read = await get(hub, `${BLUEPRINTS}/land-transfer`);
  assert.equal(read.status, 200);
  assert.deepEqual(read.body.document, revised);
  assert.equal(read.body.version, 3);
  assert.equal(read.body.isActive, true);
  assert.deepEqual(read.body.metadata, {}, "metadata belongs to its version");
  assert.equal(read.body.checksum, second.body.checksum);
});

Deno.test("with API_TOKEN set, publishing needs it: none is 401, a wrong one 403, and nothing is stored", async () => {
  await using hub = await startTestHub({ apiToken: "api-s3cret" });
  const body = { blueprintId: "guarded", document: { title: "x" } };

  const missing = await publish(hub, body);
  assert.equal(missing.status, 401);
  assert.equal(missing.body.error.code, "unauthenticated");
  assert.match(missing.body.error.message, /needs an "Authorization: Bearer <API_TOKEN>" header/);
  const wrong = await publish(hub, body, { authorization: "Bearer nope" });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error.code, "permission_denied");
  const scheme = await publish(hub, body, { authorization: "api-s3cret" });
  assert.equal(scheme.status, 401);
  assert.equal(await currentVersion(hub), 1, "nothing stored");
  assert.equal((await get(hub, `${BLUEPRINTS}/guarded`)).status, 404);

  const reads = await get(hub, BLUEPRINTS);
  assert.equal(reads.status, 200, "reads stay open");
  const ok = await publish(hub, body, { authorization: "Bearer api-s3cret" });
  assert.equal(ok.status, 201);
  assert.equal(await currentVersion(hub), 2);
});

Deno.test("a malformed publication is 400 with a clear message, and the version does not move", async () => {
  await using hub = await startTestHub();
  const cases: [string, unknown, RegExp][] = [
    [
      "missing blueprintId",
      { document: { a: 1 } },
      /^Cannot publish blueprint: blueprintId is required$/,
    ],
    [
      "bad id characters",
      { blueprintId: "land transfer!", document: {} },
      /^Cannot publish blueprint: blueprintId must be 1 to 255 characters: letters, digits/,
    ],
    [
      "an id too long",
      { blueprintId: "b".repeat(256), document: {} },
      /blueprintId must be 1 to 255 characters/,
    ],
    [
      "document an array",
      { blueprintId: "bp", document: [1, 2] },
      /^Cannot publish blueprint: document must be a JSON object$/,
    ],
    [
      "document a string",
      { blueprintId: "bp", document: "{}" },
      /^Cannot publish blueprint: document must be a JSON object$/,
    ],
    [
      "missing document",
      { blueprintId: "bp" },
      /^Cannot publish blueprint: document is required$/,
    ],
    [
      "metadata value not a string",
      { blueprintId: "bp", document: {}, metadata: { size: 3 } },
      /^Cannot publish blueprint: metadata\.size values must be strings$/,
    ],
    [
      "metadata over 4 KiB",
      { blueprintId: "bp", document: {}, metadata: { big: "m".repeat(5000) } },
      /metadata must be under 4 KiB as JSON/,
    ],
    [
      "empty publishedBy",
      { blueprintId: "bp", document: {}, publishedBy: "" },
      /publishedBy must be a string of 1 to 255 characters/,
    ],
    [
      "unknown field",
      { blueprintId: "bp", document: {}, version: 7 },
      /^Cannot publish blueprint: unknown field "version" \(expected blueprintId, document, publishedBy, metadata\)$/,
    ],
    ["invalid JSON", '{"blueprintId": "bp", ', /Malformed JSON in request body/],
    ["a JSON array body", "[]", /^Cannot publish blueprint: /],
  ];
  for (const [what, body, message] of cases) {
    const res = await publish(hub, body);
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, "invalid_argument", what);
    assert.match(res.body.error.message, message, what);
  }
  assert.equal(await currentVersion(hub), 1, "nothing stored");
  assert.equal(hub.register.version, 1);
});

Deno.test("GET /api/system-register/blueprints pages through active entries with sinceVersion, limit and nextSinceVersion", async () => {
  await using hub = await startTestHub();
  for (const id of ["bp-1", "bp-2", "bp-3", "bp-4"]) await publishBlueprint(hub, id);
  await publishBlueprint(hub, "bp-2", { revision: 2 }); // version 6; version 3 becomes inactive

  const all = await get(hub, BLUEPRINTS);
  assert.equal(all.status, 200);
  assert.equal(all.body.currentVersion, 6);
  assert.deepEqual(
    all.body.blueprints.map((b: { blueprintId: string; version: number }) => [
      b.blueprintId,
      b.version,
    ]),
    [[GENESIS_BLUEPRINT_ID, 1], ["bp-1", 2], ["bp-3", 4], ["bp-4", 5], ["bp-2", 6]],
  );
  assert.equal(all.body.nextSinceVersion, null);
  const genesis = all.body.blueprints[0];
  assert.equal(genesis.registerId, SYSTEM_REGISTER_ID);
  assert.equal(genesis.document.id, GENESIS_BLUEPRINT_ID);

  const pages: number[][] = [];
  let since: number | null = 0;
  while (since !== null) {
    const page: CallResult = await get(hub, `${BLUEPRINTS}?sinceVersion=${since}&limit=2`);
    assert.equal(page.status, 200);
    pages.push(page.body.blueprints.map((b: { version: number }) => b.version));
    since = page.body.nextSinceVersion;
  }
  assert.deepEqual(pages, [[1, 2], [4, 5], [6]]);

  const tail = await get(hub, `${BLUEPRINTS}?sinceVersion=5`);
  assert.deepEqual(tail.body.blueprints.map((b: { version: number }) => b.version), [6]);
  const past = await get(hub, `${BLUEPRINTS}?sinceVersion=99`);
  assert.deepEqual(past.body.blueprints, []);
  assert.equal(past.body.nextSinceVersion, null);
  const exact = await get(hub, `${BLUEPRINTS}?sinceVersion=4&limit=2`);
  assert.equal(exact.body.nextSinceVersion, null, "no further page when the last one is full");
});

Deno.test("a bad limit or sinceVersion is 400", async () => {
  await using hub = await startTestHub();
  for (
    const [query, message] of [
      ["limit=0", /limit must be between 1 and 1000/],
      ["limit=1001", /limit must be between 1 and 1000/],
      ["limit=-1", /limit must be a non-negative integer/],
      ["limit=ten", /limit must be a non-negative integer/],
      ["sinceVersion=1.5", /sinceVersion must be a non-negative integer/],
    ] as const
  ) {
    const res = await get(hub, `${BLUEPRINTS}?${query}`);
    assert.equal(res.status, 400, query);
    assert.equal(res.body.error.code, "invalid_argument");
    assert.match(res.body.error.message, message, query);
  }
});

Deno.test("GET /api/system-register/blueprints/{blueprintId} is 200 with the active entry, 404 when unknown, 400 when malformed", async () => {
  await using hub = await startTestHub();
  const { entry } = await publishBlueprint(hub, "bp-x", { metadata: { team: "a" } });

  const found = await get(hub, `${BLUEPRINTS}/bp-x`);
  assert.equal(found.status, 200);
  assert.equal(found.body.version, entry.version);
  assert.equal(found.body.checksum, entry.checksum);
  assert.deepEqual(found.body.metadata, { team: "a" });
  assert.equal(found.body.publicationTransactionId, entry.publicationTransactionId);
  assert.equal(found.body.document.id, "bp-x");

  const genesis = await get(hub, `${BLUEPRINTS}/${GENESIS_BLUEPRINT_ID}`);
  assert.equal(genesis.status, 200);
  assert.equal(genesis.body.version, 1);

  const missing = await get(hub, `${BLUEPRINTS}/no-such-blueprint`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "not_found");
  assert.equal(
    missing.body.error.message,
    'No blueprint "no-such-blueprint" in the system register',
  );

  const malformed = await get(hub, `${BLUEPRINTS}/${encodeURIComponent("bad id!")}`);
  assert.equal(malformed.status, 400);
});

Deno.test("GET /api/peers lists the connected peers with their heartbeat state", async () => {
  const clock = new ManualClock();
  await using hub = await startTestHub({
    clock,
    scheduler: new FakeScheduler(clock),
    heartbeatIntervalSeconds: 30,
    heartbeatTimeoutSeconds: 10,
  });
  await publishBlueprint(hub, "bp-1");
  using channel = hub.channel();
  const connection = createClient(CentralNodeConnection, channel);
  const heartbeat = createClient(Heartbeat, channel);

  const none = await get(hub, "/api/peers");
  assert.deepEqual(none.body, { activePeers: 0, peers: [] });

  const b = await connection.connectToCentralNode({
    peerId: "peer-b",
    peerInfo: { address: "10.0.0.2", port: 7002 },
  });
  const a = await connection.connectToCentralNode({
    peerId: "peer-a",
    peerInfo: { address: "10.0.0.1", port: 7001 },
  });
  const connectedAt = new Date(clock.now()).toISOString();
  clock.advance(41_000);
  await heartbeat.sendHeartbeat({
    peerId: "peer-a",
    sessionId: a.sessionId,
    sequenceNumber: 1n,
    timestamp: BigInt(clock.now() - 20),
    lastSyncVersion: 2n,
  });

  const res = await get(hub, "/api/peers");
  assert.equal(res.status, 200);
  assert.equal(res.body.activePeers, 2);
  assert.deepEqual(res.body.peers, [
    {
      peerId: "peer-a",
      sessionId: a.sessionId,
      address: "10.0.0.1",
      port: 7001,
      connectedAt,
      lastHeartbeatAt: new Date(clock.now()).toISOString(),
      lastSyncVersion: 2,
      versionLag: 0,
      health: "healthy",
      missedHeartbeats: 0,
      heartbeatsReceived: 1,
      averageLatencyMs: 20,
      statusMessage: "healthy",
    },
    {
      peerId: "peer-b",
      sessionId: b.sessionId,
      address: "10.0.0.2",
      port: 7002,
      connectedAt,
      lastHeartbeatAt: connectedAt,
      lastSyncVersion: 0,
      versionLag: 2,
      health: "warning",
      missedHeartbeats: 1,
      heartbeatsReceived: 0,
      averageLatencyMs: 0,
      statusMessage: "warning: 1 heartbeat missed; 2 version(s) behind",
    },
  ]);

  clock.advance(100_000);
  const later = await get(hub, "/api/peers");
  assert.deepEqual(later.body, { activePeers: 0, peers: [] }, "both past their third missed beat");
});

Deno.test("GET /api/node/info describes the hub, on the hub's clock", async () => {
  const clock = new ManualClock();
  await using hub = await startTestHub({
    hubId: "hub-info",
    clock,
    scheduler: new FakeScheduler(clock),
    networkToken: "net",
  });
  const startedAt = new Date(clock.now()).toISOString();
  clock.advance(65_000);

  const res = await get(hub, "/api/node/info");
  assert.equal(res.status, 200);
  assert.equal(res.body.service, "hub");
  assert.equal(res.body.hubId, "hub-info");
  assert.equal(typeof res.body.version, "string");
  assert.equal(res.body.startedAt, startedAt);
  assert.equal(res.body.uptimeSeconds, 65);
  assert.equal(res.body.grpcPort, hub.grpcPort);
  assert.equal(res.body.grpcTls, false);
  assert.equal(res.body.networkTokenRequired, true);
  assert.equal(res.body.store, "sqlite");
  assert.equal(res.body.systemRegisterVersion, 1);
  assert.equal(res.body.activePeers, 0);
  assert.equal(res.body.subscribers, 0);
});

Deno.test("/healthz and /readyz answer 200 once the hub serves, /readyz naming the store and integrity", async () => {
  await using hub = await startTestHub();
  assert.equal((await get(hub, "/healthz")).status, 200);
  const ready = await get(hub, "/readyz");
  assert.equal(ready.status, 200);
  assert.equal(ready.body.ready, true);
  assert.equal(ready.body.dependencies.store.state, "ok");
  assert.equal(ready.body.dependencies.store.kind, "sqlite");
  assert.equal(ready.body.dependencies.integrity.state, "ok");
});

Deno.test("/openapi.json lists the hub's paths, and /docs serves the reference page", async () => {
  await using hub = await startTestHub();
  const res = await get(hub, "/openapi.json");
  assert.equal(res.status, 200);
  const paths = Object.keys(res.body.paths);
  for (
    const path of [
      "/api/system-register",
      "/api/system-register/blueprints",
      "/api/system-register/blueprints/{blueprintId}",
      "/api/peers",
      "/api/node/info",
    ]
  ) {
    assert.ok(paths.includes(path), `${path} in ${paths.join(", ")}`);
  }
  assert.ok(res.body.paths[BLUEPRINTS].post, "publishing is documented");
  assert.ok(res.body.paths[BLUEPRINTS].get, "listing is documented");
  const docs = await hub.app.request("/docs");
  assert.equal(docs.status, 200);
  await docs.body?.cancel();
});
