/**
 * The hub's gRPC front door: the NETWORK_TOKEN guard, validation of every
 * request (INVALID_ARGUMENT naming the proto field, nothing changed), per-peer
 * rate limits, TLS, and the standard health and reflection services that stay
 * open to tools and load balancers.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type ChannelCredentials, Client, credentials, type Metadata } from "@grpc/grpc-js";
import {
  CentralNodeConnection,
  DisconnectReason,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { Heartbeat } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import {
  type NotificationType,
  SystemRegisterSync,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { openSqliteSystemRegisterStore } from "../../hub/system_register/mod.ts";
import { ManualClock } from "../../shared/clock.ts";
import { createClient, type GrpcChannel, toMetadata } from "../../shared/grpc/mod.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { tempDir } from "../fixtures/wait.ts";
import { collect, rejectsWithCode, startTestHub, type TestHub } from "./hub_fixture.ts";
import { opensslMissing, selfSignedCertificate } from "../fixtures/tls.ts";

const CONTRACT_SERVICES = [
  "sorcha.peer.v1.CentralNodeConnection",
  "sorcha.peer.v1.Heartbeat",
  "sorcha.peer.v1.SystemRegisterSync",
];

function clients(channel: GrpcChannel) {
  return {
    connection: createClient(CentralNodeConnection, channel),
    heartbeat: createClient(Heartbeat, channel),
    sync: createClient(SystemRegisterSync, channel),
  };
}

/** A raw grpc-js client (no generated code): bytes in, bytes out. */
function rawClient(address: string, creds: ChannelCredentials = credentials.createInsecure()) {
  const client = new Client(address, creds);
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
}

const serialize = (bytes: Uint8Array) => Buffer.from(bytes);
const deserialize = (bytes: Buffer) => new Uint8Array(bytes);

/** Calls `grpc.health.v1.Health/Check` with hand-encoded bytes; resolves with the response bytes. */
function healthCheck(client: Client, service = "", metadata?: Metadata): Promise<Uint8Array> {
  const name = new TextEncoder().encode(service);
  // HealthCheckRequest: field 1 (service) string; the empty request is 0 bytes.
  const request = name.length ? new Uint8Array([0x0a, name.length, ...name]) : new Uint8Array();
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      serialize,
      deserialize,
      request,
      metadata ?? toMetadata({}),
      (error, response) => error ? reject(error) : resolve(response!),
    );
  });
}

/** Asks server reflection to list the services; resolves with the response bytes as text. */
function listServices(client: Client, version: "v1" | "v1alpha"): Promise<string> {
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(
      `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
      serialize,
      deserialize,
    );
    const chunks: Uint8Array[] = [];
    call.on("data", (bytes: Uint8Array) => chunks.push(bytes));
    call.on("error", reject);
    call.on("end", () => resolve(chunks.map((c) => new TextDecoder().decode(c)).join("\n")));
    // ServerReflectionRequest: field 7 (list_services) string "".
    call.write(new Uint8Array([0x3a, 0x00]));
    call.end();
  });
}

/** The state a rejected call must leave untouched. */
function snapshot(hub: TestHub) {
  return {
    active: hub.sessions.activeCount(),
    sessions: hub.sessions.active().map((s) => s.sessionId),
    version: hub.register.version,
    subscribers: hub.register.notifications.size,
  };
}

Deno.test("with a NETWORK_TOKEN, contract calls without it or with a wrong one are UNAUTHENTICATED; with it they pass", async () => {
  await using hub = await startTestHub({ networkToken: "net-s3cret" });

  using bare = hub.channel();
  const anonymous = clients(bare);
  const before = snapshot(hub);
  await rejectsWithCode(
    anonymous.connection.connectToCentralNode({ peerId: "peer-1" }),
    "unauthenticated",
    /Cannot call sorcha\.peer\.v1\.CentralNodeConnection\/ConnectToCentralNode: no NETWORK_TOKEN in the authorization metadata/,
  );
  await rejectsWithCode(
    anonymous.heartbeat.sendHeartbeat({ peerId: "peer-1", sessionId: "s" }),
    "unauthenticated",
  );
  await rejectsWithCode(collect(anonymous.sync.fullSync({ peerId: "peer-1" })), "unauthenticated");
  await rejectsWithCode(
    anonymous.sync.getSyncCheckpoint({ peerId: "peer-1" }),
    "unauthenticated",
  );

  using wrong = hub.channel({ token: "guess" });
  await rejectsWithCode(
    clients(wrong).connection.connectToCentralNode({ peerId: "peer-1" }),
    "unauthenticated",
    /a wrong NETWORK_TOKEN/,
  );
  using notBearer = hub.channel({ metadata: { authorization: "net-s3cret" } });
  await rejectsWithCode(
    clients(notBearer).connection.getCentralNodeStatus({}),
    "unauthenticated",
    /no NETWORK_TOKEN/,
  );
  assert.deepEqual(snapshot(hub), before, "nothing changed");

  using good = hub.channel({ token: "net-s3cret" });
  const ok = clients(good);
  const { sessionId } = await ok.connection.connectToCentralNode({ peerId: "peer-1" });
  const ack = await ok.heartbeat.sendHeartbeat({ peerId: "peer-1", sessionId, sequenceNumber: 1n });
  assert.equal(ack.success, true);
  assert.equal((await collect(ok.sync.fullSync({ peerId: "peer-1" }))).length, 1);
  assert.equal(hub.sessions.activeCount(), 1);
});

Deno.test("health and reflection stay open when a NETWORK_TOKEN is required", async () => {
  await using hub = await startTestHub({ networkToken: "net-s3cret" });
  using raw = rawClient(hub.address);

  assert.deepEqual([...await healthCheck(raw)], [0x08, 0x01], "status SERVING");
  const listed = await listServices(raw, "v1");
  for (const name of CONTRACT_SERVICES) assert.ok(listed.includes(name), `${name} listed`);
});

Deno.test("health turns NOT_SERVING as soon as the register is found corrupt", async () => {
  await using dir = await tempDir("hub-health-");
  const store = openSqliteSystemRegisterStore(`${dir.path}/system-register.db`);
  await using hub = await startTestHub({ dataDir: dir.path, store });
  using raw = rawClient(hub.address);
  assert.deepEqual([...await healthCheck(raw)], [0x08, 0x01], "SERVING while intact");

  store.execForTest("UPDATE blueprints SET published_by = 'mallory' WHERE version = 1");
  assert.equal((await hub.register.checkIntegrity()).ok, false);
  assert.deepEqual([...await healthCheck(raw)], [0x08, 0x02], "NOT_SERVING at once");
  for (const service of CONTRACT_SERVICES) {
    assert.deepEqual([...await healthCheck(raw, service)], [0x08, 0x02], service);
  }
});

Deno.test("grpc.health.v1.Health/Check answers SERVING for the server and each contract service", async () => {
  await using hub = await startTestHub();
  using raw = rawClient(hub.address);

  assert.deepEqual([...await healthCheck(raw)], [0x08, 0x01]);
  for (const service of CONTRACT_SERVICES) {
    assert.deepEqual([...await healthCheck(raw, service)], [0x08, 0x01], service);
  }
  await assert.rejects(healthCheck(raw, "no.such.Service"), (error: { code?: number }) => {
    assert.equal(error.code, 5, "NOT_FOUND");
    return true;
  });
});

Deno.test("server reflection lists the three sorcha.peer.v1 services (v1 and v1alpha)", async () => {
  await using hub = await startTestHub();
  using raw = rawClient(hub.address);

  for (const version of ["v1", "v1alpha"] as const) {
    const listed = await listServices(raw, version);
    for (const name of CONTRACT_SERVICES) {
      assert.ok(listed.includes(name), `${name} listed by ${version}: ${JSON.stringify(listed)}`);
    }
  }
});

/** Each RPC with a request that breaks one rule, and what the answer must name. */
function invalidCalls(c: ReturnType<typeof clients>) {
  const unknownType = 7 as NotificationType;
  return [
    {
      what: "ConnectToCentralNode: peer_id with a space",
      call: () => c.connection.connectToCentralNode({ peerId: "peer 1" }),
      message: /^Cannot connect peer "peer 1": peer_id must use only letters, digits, "_" and "-"$/,
    },
    {
      what: "ConnectToCentralNode: empty peer_id",
      call: () => c.connection.connectToCentralNode({ peerId: "" }),
      message: /^Cannot connect peer: peer_id is required$/,
    },
    {
      what: "ConnectToCentralNode: peer_id over 64 characters",
      call: () => c.connection.connectToCentralNode({ peerId: "p".repeat(65) }),
      message: /: peer_id must be at most 64 characters$/,
    },
    {
      what: "ConnectToCentralNode: port 70000",
      call: () =>
        c.connection.connectToCentralNode({
          peerId: "peer-1",
          peerInfo: { address: "10.0.0.1", port: 70000 },
        }),
      message: /^Cannot connect peer "peer-1": peer_info\.port must be a port \(1-65535\)$/,
    },
    {
      what: "ConnectToCentralNode: an address without a port",
      call: () =>
        c.connection.connectToCentralNode({ peerId: "peer-1", peerInfo: { address: "10.0.0.1" } }),
      message: /peer_info\.port must be a port \(1-65535\) when an address is given$/,
    },
    {
      what: "ConnectToCentralNode: negative last_known_version",
      call: () => c.connection.connectToCentralNode({ peerId: "peer-1", lastKnownVersion: -1n }),
      message: /^Cannot connect peer "peer-1": last_known_version must not be negative$/,
    },
    {
      what: "ConnectToCentralNode: an oversized max_blueprint_size",
      call: () =>
        c.connection.connectToCentralNode({
          peerId: "peer-1",
          peerInfo: { capabilities: { maxBlueprintSize: 2 ** 30 } },
        }),
      message: /peer_info\.capabilities\.max_blueprint_size must be at most 16777216$/,
    },
    {
      what: "DisconnectFromCentralNode: bad reason",
      call: () =>
        c.connection.disconnectFromCentralNode({
          peerId: "peer-1",
          sessionId: "s-1",
          reason: 9 as DisconnectReason,
        }),
      message: /^Cannot disconnect peer "peer-1": reason must be a DisconnectReason$/,
    },
    {
      what: "DisconnectFromCentralNode: empty session_id",
      call: () =>
        c.connection.disconnectFromCentralNode({
          peerId: "peer-1",
          reason: DisconnectReason.SHUTDOWN,
        }),
      message: /^Cannot disconnect peer "peer-1": session_id is required$/,
    },
    {
      what: "GetCentralNodeStatus: peer_id with a space",
      call: () => c.connection.getCentralNodeStatus({ peerId: "a b" }),
      message: /^Cannot report the hub's status: peer_id must use only letters/,
    },
    {
      what: "SendHeartbeat: negative sequence_number",
      call: () =>
        c.heartbeat.sendHeartbeat({ peerId: "peer-1", sessionId: "s-1", sequenceNumber: -1n }),
      message: /^Cannot take a heartbeat from peer "peer-1": sequence_number must not be negative$/,
    },
    {
      what: "SendHeartbeat: negative metrics",
      call: () =>
        c.heartbeat.sendHeartbeat({
          peerId: "peer-1",
          sessionId: "s-1",
          metrics: { cpuUsagePercent: -5 },
        }),
      message: /metrics\.cpu_usage_percent must not be negative$/,
    },
    {
      what: "SendHeartbeat: empty session_id",
      call: () => c.heartbeat.sendHeartbeat({ peerId: "peer-1" }),
      message: /^Cannot take a heartbeat from peer "peer-1": session_id is required$/,
    },
    {
      what: "GetHeartbeatStatus: over-long peer_id",
      call: () => c.heartbeat.getHeartbeatStatus({ peerId: "x".repeat(65) }),
      message: /^Cannot report heartbeat status: peer_id must be at most 64 characters$/,
    },
    {
      what: "FullSync: negative max_blueprints",
      call: () => collect(c.sync.fullSync({ peerId: "peer-1", maxBlueprints: -1 })),
      message: /^Cannot full-sync peer "peer-1": max_blueprints must not be negative/,
    },
    {
      what: "IncrementalSync: negative last_known_version",
      call: () => collect(c.sync.incrementalSync({ peerId: "peer-1", lastKnownVersion: -3n })),
      message: /^Cannot incrementally sync peer "peer-1": last_known_version must not be negative$/,
    },
    {
      what: "SubscribeToPushNotifications: unknown notification type",
      call: () =>
        collect(c.sync.subscribeToPushNotifications({
          peerId: "peer-1",
          filters: { notificationTypes: [unknownType] },
        })),
      message:
        /^Cannot subscribe peer "peer-1": filters\.notification_types\[0\] must be BLUEPRINT_PUBLISHED, _UPDATED or _DEPRECATED$/,
    },
    {
      what: "SubscribeToPushNotifications: over-long blueprint id in filters",
      call: () =>
        collect(c.sync.subscribeToPushNotifications({
          peerId: "peer-1",
          filters: { blueprintIds: ["ok", "b".repeat(256)] },
        })),
      message:
        /^Cannot subscribe peer "peer-1": filters\.blueprint_ids\[1\] must be at most 255 characters$/,
    },
    {
      what: "SubscribeToPushNotifications: metadata filters over 4 KiB",
      call: () =>
        collect(c.sync.subscribeToPushNotifications({
          peerId: "peer-1",
          filters: { metadataFilters: { big: "m".repeat(5000) } },
        })),
      message: /filters\.metadata_filters must be under 4 KiB$/,
    },
    {
      what: "GetSyncCheckpoint: empty peer_id",
      call: () => c.sync.getSyncCheckpoint({ peerId: "" }),
      message: /^Cannot report the sync checkpoint of peer: peer_id is required$/,
    },
  ];
}

Deno.test("an invalid request on any RPC is INVALID_ARGUMENT naming the proto field, and changes nothing", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const c = clients(channel);
  // A peer with a live session, so a wrongly accepted call would have something to change.
  const { sessionId } = await c.connection.connectToCentralNode({ peerId: "peer-0" });
  const before = snapshot(hub);

  for (const { what, call, message } of invalidCalls(c)) {
    const error = await rejectsWithCode(call(), "invalid_argument", message).catch((e) => {
      throw new Error(`${what}: ${e.message}`);
    });
    assert.ok(!/undefined|\[object/.test(error.message), `${what}: ${error.message}`);
  }

  assert.deepEqual(snapshot(hub), before, "no session created, replaced or ended");
  assert.equal(hub.sessions.session("peer-1"), undefined);
  const status = await c.heartbeat.getHeartbeatStatus({ peerId: "peer-0", sessionId });
  assert.equal(status.totalHeartbeatsReceived, 0n);
});

Deno.test("MonitorHeartbeat ends with INVALID_ARGUMENT at the first invalid beat, after answering the valid ones", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const c = clients(channel);
  const { sessionId } = await c.connection.connectToCentralNode({ peerId: "peer-1" });

  using call = c.heartbeat.monitorHeartbeat();
  await call.send({ peerId: "peer-1", sessionId, sequenceNumber: 1n });
  await call.send({ peerId: "peer 1", sessionId, sequenceNumber: 2n }).catch(() => {});
  const acks: boolean[] = [];
  await rejectsWithCode(
    (async () => {
      for await (const ack of call) acks.push(ack.success);
    })(),
    "invalid_argument",
    /Cannot take a heartbeat from peer "peer 1": peer_id must use only letters/,
  );
  assert.deepEqual(acks, [true]);
  const status = await c.heartbeat.getHeartbeatStatus({ peerId: "peer-1" });
  assert.equal(status.totalHeartbeatsReceived, 1n);
});

/** A test hub on `clock` with rate limits of `perSecond` (0: none) and `burst`. */
function rateLimitedHub(clock: ManualClock, limits: { perSecond: number; burst: number }) {
  return startTestHub({
    clock,
    scheduler: new FakeScheduler(clock),
    rateLimitPerSecond: limits.perSecond,
    rateLimitBurst: limits.burst,
  });
}

Deno.test("rate limits are per peer: past its burst a peer gets RESOURCE_EXHAUSTED while another still passes", async () => {
  const clock = new ManualClock();
  await using hub = await rateLimitedHub(clock, { perSecond: 1, burst: 2 });
  using channel = hub.channel();
  const { connection, heartbeat } = clients(channel);

  const { sessionId } = await connection.connectToCentralNode({ peerId: "peer-a" });
  await heartbeat.sendHeartbeat({ peerId: "peer-a", sessionId, sequenceNumber: 1n });
  const refused = await rejectsWithCode(
    heartbeat.sendHeartbeat({ peerId: "peer-a", sessionId, sequenceNumber: 2n }),
    "resource_exhausted",
    /^Cannot take a heartbeat from peer "peer-a": rate limit of 1 requests per second \(burst 2\) exceeded; retry in 1000 ms$/,
  );
  assert.deepEqual(refused.details, { retryAfterMs: 1000 });
  await rejectsWithCode(
    connection.connectToCentralNode({ peerId: "peer-a" }),
    "resource_exhausted",
  );
  assert.equal(
    hub.sessions.session("peer-a")?.sessionId,
    sessionId,
    "the refused connect did nothing",
  );

  const other = await connection.connectToCentralNode({ peerId: "peer-b" });
  assert.equal(other.success, true, "another peer has its own bucket");
  assert.equal(
    hub.sessions.heartbeatStatus("peer-a", { hubVersion: 1 })?.totalReceived,
    1,
    "the refused beat was not recorded",
  );

  clock.advance(1_000);
  const later = await heartbeat.sendHeartbeat({ peerId: "peer-a", sessionId, sequenceNumber: 3n });
  assert.equal(later.success, true, "a token came back after a second");
  await rejectsWithCode(
    heartbeat.sendHeartbeat({ peerId: "peer-a", sessionId, sequenceNumber: 4n }),
    "resource_exhausted",
  );
});

Deno.test("heartbeat status queries are charged to the asking connection, not to the peer asked about", async () => {
  await using hub = await rateLimitedHub(new ManualClock(), { perSecond: 1, burst: 2 });
  using peerChannel = hub.channel();
  using monitorChannel = hub.channel({ channelOptions: { "grpc.use_local_subchannel_pool": 1 } });
  const peer = clients(peerChannel);
  const monitor = clients(monitorChannel);
  const { sessionId } = await peer.connection.connectToCentralNode({ peerId: "peer-a" });

  await monitor.heartbeat.getHeartbeatStatus({ peerId: "peer-a" });
  await monitor.heartbeat.getHeartbeatStatus({ peerId: "peer-a" });
  await rejectsWithCode(
    monitor.heartbeat.getHeartbeatStatus({ peerId: "peer-a" }),
    "resource_exhausted",
    /^Cannot report heartbeat status: rate limit/,
  );
  const ack = await peer.heartbeat.sendHeartbeat({
    peerId: "peer-a",
    sessionId,
    sequenceNumber: 1n,
  });
  assert.equal(ack.success, true, "peer-a's own budget is untouched by the monitor's queries");
});

Deno.test("with rateLimitPerSecond 0 there is no limit", async () => {
  await using hub = await rateLimitedHub(new ManualClock(), { perSecond: 0, burst: 1 });
  using channel = hub.channel();
  const { connection } = clients(channel);
  for (let i = 0; i < 10; i++) await connection.connectToCentralNode({ peerId: "peer-a" });
  assert.equal(hub.sessions.activeCount(), 1);
});

const noOpenssl = opensslMissing();
if (noOpenssl) console.warn(`Skipping the gRPC TLS test: ${noOpenssl}`);

Deno.test({
  name:
    `gRPC over TLS: a client trusting the hub's certificate connects; plaintext or untrusting clients cannot${
      noOpenssl ? ` (skipped: ${noOpenssl})` : ""
    }`,
  ignore: noOpenssl !== undefined,
  async fn() {
    await using dir = await tempDir("hub-tls-");
    const { cert, key } = await selfSignedCertificate(dir.path);
    const ca = await Deno.readFile(cert);

    await using hub = await startTestHub({
      networkToken: "net-s3cret",
      tls: { cert: ca, key: await Deno.readFile(key) },
    });
    // Deno's TLS refuses an IP address as server name: the name checked is the certificate's.
    const serverName = { "grpc.ssl_target_name_override": "localhost" };
    using secure = hub.channel({
      credentials: credentials.createSsl(Buffer.from(ca)),
      token: "net-s3cret",
      channelOptions: serverName,
    });
    const answer = await clients(secure).connection.connectToCentralNode({ peerId: "peer-tls" });
    assert.equal(answer.success, true);
    assert.equal(answer.centralNodeId, "hub-test");
    const info = await (await hub.app.request("/api/node/info")).json();
    assert.equal(info.grpcTls, true);
    assert.equal(info.networkTokenRequired, true);

    using plain = hub.channel({ token: "net-s3cret", timeoutMs: 5_000 });
    await rejectsWithCode(
      clients(plain).connection.getCentralNodeStatus({}),
      "unavailable",
    );
    using untrusting = hub.channel({
      credentials: credentials.createSsl(),
      token: "net-s3cret",
      timeoutMs: 5_000,
      channelOptions: serverName,
    });
    await rejectsWithCode(
      clients(untrusting).connection.getCentralNodeStatus({}),
      "unavailable",
    );
    assert.equal(hub.sessions.activeCount(), 1);
  },
});
