/**
 * The hub's CentralNodeConnection service over a real gRPC connection:
 * sessions, reconnects, disconnects and the hub's status with real figures.
 */
import assert from "node:assert/strict";
import {
  CentralNodeConnection,
  type ConnectRequestSchema,
  DisconnectReason,
  NodeHealth,
  PeerConnectionStatus,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { Heartbeat, RecommendedAction } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ManualClock } from "../../shared/clock.ts";
import { createClient, type GrpcChannel } from "../../shared/grpc/mod.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { publishBlueprint, rejectsWithCode, startTestHub } from "./hub_fixture.ts";

function clients(channel: GrpcChannel) {
  return {
    connection: createClient(CentralNodeConnection, channel),
    heartbeat: createClient(Heartbeat, channel),
  };
}

function connectRequest(
  peerId: string,
  overrides: { lastKnownVersion?: bigint } = {},
): MessageInitShape<typeof ConnectRequestSchema> {
  return {
    peerId,
    peerInfo: {
      address: "10.0.0.7",
      port: 5001,
      nodeType: "Peer",
      supportedProtocols: ["grpc"],
      capabilities: { supportsPushNotifications: true, supportsIncrementalSync: true },
    },
    lastKnownVersion: 0n,
    connectionTime: BigInt(Date.now()),
    ...overrides,
  };
}

Deno.test("connecting gives a session id, the hub id, the current version, the heartbeat interval and the settings", async () => {
  const clock = new ManualClock();
  await using hub = await startTestHub({
    hubId: "hub-east",
    clock,
    scheduler: new FakeScheduler(clock),
    heartbeatIntervalSeconds: 20,
    heartbeatTimeoutSeconds: 15,
    syncIntervalSeconds: 600,
    maxConcurrentSyncs: 3,
  });
  await publishBlueprint(hub, "bp-one");
  using channel = hub.channel();
  const { connection } = clients(channel);

  const answer = await connection.connectToCentralNode(connectRequest("peer-1"));

  assert.equal(answer.success, true);
  assert.match(answer.sessionId, /^[0-9a-f-]{36}$/);
  assert.equal(answer.centralNodeId, "hub-east");
  assert.equal(answer.currentSystemRegisterVersion, 2n, "genesis and bp-one");
  assert.equal(answer.connectedAt, BigInt(clock.now()));
  assert.equal(answer.heartbeatIntervalSeconds, 20);
  assert.equal(answer.config?.heartbeatTimeoutSeconds, 15);
  assert.equal(answer.config?.periodicSyncIntervalMinutes, 10);
  assert.equal(answer.config?.pushNotificationsEnabled, true);
  assert.equal(answer.config?.maxConcurrentSyncs, 3);
  assert.match(answer.message, /version 2, 2 ahead of yours: sync/);

  const session = hub.sessions.session("peer-1");
  assert.equal(session?.sessionId, answer.sessionId);
  assert.equal(session?.address, "10.0.0.7");
  assert.equal(session?.port, 5001);
  assert.equal(session?.capabilities.maxBlueprintSize, 16 * 1024 * 1024, "the default size");

  const upToDate = await connection.connectToCentralNode(
    connectRequest("peer-2", { lastKnownVersion: 2n }),
  );
  assert.equal(upToDate.message, "Connected; the system register is at version 2");
  const ahead = await connection.connectToCentralNode(
    connectRequest("peer-3", { lastKnownVersion: 7n }),
  );
  assert.equal(ahead.success, true);
  assert.match(ahead.message, /behind your 7 .*: reset with a full sync$/);
});

Deno.test("connecting again replaces the session: the old one is told to reconnect", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const { connection, heartbeat } = clients(channel);

  const first = await connection.connectToCentralNode(connectRequest("peer-1"));
  const second = await connection.connectToCentralNode(connectRequest("peer-1"));

  assert.notEqual(second.sessionId, first.sessionId);
  assert.equal(hub.sessions.activeCount(), 1);
  assert.equal(hub.sessions.session("peer-1")?.sessionId, second.sessionId);
  const stale = await heartbeat.sendHeartbeat({
    peerId: "peer-1",
    sessionId: first.sessionId,
    sequenceNumber: 1n,
    timestamp: BigInt(Date.now()),
  });
  assert.equal(stale.success, false);
  assert.equal(stale.recommendedAction, RecommendedAction.RECONNECT);
  const current = await heartbeat.sendHeartbeat({
    peerId: "peer-1",
    sessionId: second.sessionId,
    sequenceNumber: 1n,
    timestamp: BigInt(Date.now()),
  });
  assert.equal(current.success, true);
});

Deno.test("a wrong session id of 128 characters is quoted cut to 100, with its length, in gRPC messages", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const { connection, heartbeat } = clients(channel);
  await connection.connectToCentralNode(connectRequest("peer-1"));
  const long = "s".repeat(128);
  const quoted = `"${"s".repeat(100)}…" (128 characters)`;
  const pattern = quoted.replace(/[()]/g, "\\$&");
  await rejectsWithCode(
    connection.disconnectFromCentralNode({
      peerId: "peer-1",
      sessionId: long,
      reason: DisconnectReason.CLIENT_REQUEST,
    }),
    "not_found",
    new RegExp(`^Cannot disconnect peer "peer-1": session ${pattern} is not its current session$`),
  );
  await rejectsWithCode(
    heartbeat.getHeartbeatStatus({ peerId: "peer-1", sessionId: long }),
    "not_found",
    new RegExp(`session ${pattern} is not its current session$`),
  );
  const beat = await heartbeat.sendHeartbeat({
    peerId: "peer-1",
    sessionId: long,
    sequenceNumber: 1n,
  });
  assert.equal(beat.success, false);
  assert.equal(
    beat.message,
    `Session ${quoted} is not the current session of peer "peer-1": reconnect`,
  );
  assert.equal(hub.sessions.activeCount(), 1, "the session survives");
});

Deno.test("disconnecting ends the session; a wrong session or an unknown peer is NOT_FOUND and changes nothing", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel();
  const { connection, heartbeat } = clients(channel);
  const { sessionId } = await connection.connectToCentralNode(connectRequest("peer-1"));

  await rejectsWithCode(
    connection.disconnectFromCentralNode({
      peerId: "peer-1",
      sessionId: "not-the-session",
      reason: DisconnectReason.CLIENT_REQUEST,
    }),
    "not_found",
    /Cannot disconnect peer "peer-1": session "not-the-session" is not its current session/,
  );
  await rejectsWithCode(
    connection.disconnectFromCentralNode({
      peerId: "peer-9",
      sessionId,
      reason: DisconnectReason.CLIENT_REQUEST,
    }),
    "not_found",
    /Cannot disconnect peer "peer-9": it is not connected/,
  );
  assert.equal(hub.sessions.activeCount(), 1, "the session survives both");

  const before = Date.now();
  const ended = await connection.disconnectFromCentralNode({
    peerId: "peer-1",
    sessionId,
    reason: DisconnectReason.SHUTDOWN,
    disconnectTime: BigInt(before),
  });
  assert.equal(ended.success, true);
  assert.ok(ended.disconnectedAt >= BigInt(before));
  assert.match(ended.message, new RegExp(`Session ${sessionId} of peer "peer-1" ended`));
  assert.equal(hub.sessions.activeCount(), 0);

  const status = await heartbeat.getHeartbeatStatus({ peerId: "peer-1" });
  assert.match(status.statusMessage, /^disconnected \(shutdown\)/);
  const beat = await heartbeat.sendHeartbeat({ peerId: "peer-1", sessionId, sequenceNumber: 1n });
  assert.equal(beat.success, false);
  assert.equal(beat.recommendedAction, RecommendedAction.RECONNECT);

  await rejectsWithCode(
    connection.disconnectFromCentralNode({ peerId: "peer-1", sessionId, reason: 5 }),
    "not_found",
    /it is not connected/,
  );
});

Deno.test("the hub's status carries real figures: version, blueprints, active peers, last publication, uptime", async () => {
  const clock = new ManualClock();
  await using hub = await startTestHub({
    hubId: "hub-status",
    clock,
    scheduler: new FakeScheduler(clock),
  });
  using channel = hub.channel();
  const { connection } = clients(channel);

  const fresh = await connection.getCentralNodeStatus({});
  assert.equal(fresh.nodeId, "hub-status");
  assert.equal(fresh.health, NodeHealth.HEALTHY);
  assert.equal(fresh.currentSystemRegisterVersion, 1n, "genesis only");
  assert.equal(fresh.totalBlueprints, 1);
  assert.equal(fresh.activePeerCount, 0);
  assert.equal(fresh.lastBlueprintPublishedAt, BigInt(clock.now()), "genesis, at start");
  assert.equal(fresh.uptimeSeconds, 0n);
  assert.deepEqual(fresh.connectedPeers, []);

  clock.advance(5_000);
  await publishBlueprint(hub, "bp-a");
  const publishedAt = clock.now();
  clock.advance(2_000);
  await publishBlueprint(hub, "bp-b");
  await publishBlueprint(hub, "bp-a", { revision: 2 });
  const lastPublishedAt = clock.now();
  const one = await connection.connectToCentralNode(connectRequest("peer-1"));
  clock.advance(1_500);
  const two = await connection.connectToCentralNode(connectRequest("peer-2"));
  clock.advance(3_000);

  const status = await connection.getCentralNodeStatus({
    peerId: "peer-1",
    includePeerList: true,
  });
  assert.equal(status.currentSystemRegisterVersion, 4n);
  assert.equal(status.totalBlueprints, 3, "genesis, bp-a (its active version), bp-b");
  assert.equal(status.activePeerCount, 2);
  assert.ok(lastPublishedAt > publishedAt);
  assert.equal(status.lastBlueprintPublishedAt, BigInt(lastPublishedAt));
  assert.equal(status.uptimeSeconds, 11n, "5 + 2 + 1.5 + 3 s");
  const peers = [...status.connectedPeers].sort((a, b) => a.peerId.localeCompare(b.peerId));
  assert.deepEqual(
    peers.map((p) => [p.peerId, p.sessionId, p.connectedAt, p.lastSyncVersion, p.status]),
    [
      ["peer-1", one.sessionId, one.connectedAt, 0n, PeerConnectionStatus.CONNECTED],
      ["peer-2", two.sessionId, two.connectedAt, 0n, PeerConnectionStatus.CONNECTED],
    ],
  );
  assert.equal(peers[0]!.lastHeartbeatAt, one.connectedAt, "no beat yet: its connect time");

  const withoutList = await connection.getCentralNodeStatus({ peerId: "peer-1" });
  assert.deepEqual(withoutList.connectedPeers, [], "the list only when asked for");
  assert.equal(withoutList.activePeerCount, 2);
});
