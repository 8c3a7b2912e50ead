/**
 * The hub's Heartbeat service over a real gRPC connection, with a manual
 * clock and the sweep run by hand: beats recorded and answered, sequence
 * numbers, clock skew, peers going WARNING, CRITICAL and then dropped, and
 * the summary of every peer.
 */
import assert from "node:assert/strict";
import {
  CentralNodeConnection,
  PeerConnectionStatus,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import {
  Heartbeat,
  type HeartbeatAcknowledgement,
  HeartbeatHealthStatus,
  RecommendedAction,
} from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { ManualClock } from "../../shared/clock.ts";
import { createClient, type GrpcChannel } from "../../shared/grpc/mod.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { publishBlueprint, rejectsWithCode, startTestHub, type TestHub } from "./hub_fixture.ts";

/** Beats every 30 s, 10 s of grace, dropped at the third missed beat (the hub's default). */
const INTERVAL_S = 30;
const TIMEOUT_S = 10;

interface ManualHub {
  hub: TestHub;
  clock: ManualClock;
  scheduler: FakeScheduler;
}

async function manualHub(): Promise<ManualHub & AsyncDisposable> {
  const clock = new ManualClock();
  const scheduler = new FakeScheduler(clock);
  const hub = await startTestHub({
    clock,
    scheduler,
    heartbeatIntervalSeconds: INTERVAL_S,
    heartbeatTimeoutSeconds: TIMEOUT_S,
    heartbeatMaxMissed: 3,
  });
  return { hub, clock, scheduler, [Symbol.asyncDispose]: () => hub[Symbol.asyncDispose]() };
}

function clients(channel: GrpcChannel) {
  return {
    connection: createClient(CentralNodeConnection, channel),
    heartbeat: createClient(Heartbeat, channel),
  };
}

/** A peer with a session, beating with increasing sequence numbers at the clock's time. */
class Peer {
  sequence = 0n;
  constructor(
    readonly peerId: string,
    readonly sessionId: string,
    readonly client: ReturnType<typeof clients>,
    readonly clock: ManualClock,
  ) {}

  static async connect(
    peerId: string,
    client: ReturnType<typeof clients>,
    clock: ManualClock,
  ): Promise<Peer> {
    const answer = await client.connection.connectToCentralNode({
      peerId,
      peerInfo: { address: "10.0.0.1", port: 5000, nodeType: "Peer" },
    });
    return new Peer(peerId, answer.sessionId, client, clock);
  }

  beat(
    options: { sequence?: bigint; lastSyncVersion?: bigint; timestamp?: number } = {},
  ): Promise<HeartbeatAcknowledgement> {
    const sequence = options.sequence ?? ++this.sequence;
    return this.client.heartbeat.sendHeartbeat({
      peerId: this.peerId,
      sessionId: this.sessionId,
      sequenceNumber: sequence,
      timestamp: BigInt(options.timestamp ?? this.clock.now()),
      lastSyncVersion: options.lastSyncVersion ?? 0n,
      nodeType: "Peer",
      metrics: { blueprintCount: 1, uptimeSeconds: 10n },
    });
  }

  status() {
    return this.client.heartbeat.getHeartbeatStatus({ peerId: this.peerId });
  }
}

Deno.test("a heartbeat is recorded and answered with the hub's version: SYNC when the peer is behind, NONE when level", async () => {
  await using h = await manualHub();
  const { hub, clock } = h;
  await publishBlueprint(hub, "bp-one");
  using channel = hub.channel();
  const client = clients(channel);
  const peer = await Peer.connect("peer-1", client, clock);
  clock.advance(5_000);

  const behind = await peer.beat({ lastSyncVersion: 1n });
  assert.equal(behind.success, true);
  assert.equal(behind.centralNodeId, "hub-test");
  assert.equal(behind.currentSystemRegisterVersion, 2n);
  assert.equal(behind.recommendedAction, RecommendedAction.SYNC);
  assert.equal(behind.timestamp, BigInt(clock.now()));
  assert.match(behind.message, /1 version\(s\) behind the hub's 2: sync/);
  assert.ok(behind.serverLatencyMs >= 0n);

  let status = await peer.status();
  assert.equal(status.peerId, "peer-1");
  assert.equal(status.sessionId, peer.sessionId);
  assert.equal(status.totalHeartbeatsReceived, 1n);
  assert.equal(status.lastHeartbeatTime, BigInt(clock.now()));
  assert.equal(status.lastKnownSyncVersion, 1n);
  assert.equal(status.versionLag, 1n);
  assert.equal(status.healthStatus, HeartbeatHealthStatus.HEALTHY);
  assert.equal(status.isHealthy, true);
  assert.equal(status.missedHeartbeats, 0);

  clock.advance(INTERVAL_S * 1000);
  const level = await peer.beat({ lastSyncVersion: 2n });
  assert.equal(level.success, true);
  assert.equal(level.recommendedAction, RecommendedAction.NONE);
  assert.equal(level.message, "up to date");
  status = await peer.status();
  assert.equal(status.totalHeartbeatsReceived, 2n);
  assert.equal(status.versionLag, 0n);
  assert.equal(status.statusMessage, "healthy");

  const ahead = await peer.beat({ lastSyncVersion: 9n });
  assert.equal(ahead.recommendedAction, RecommendedAction.SYNC, "ahead of the hub: reset");
  assert.match(ahead.message, /version 9 is ahead of the hub's 2: reset with a full sync/);
});

Deno.test("a heartbeat for an unknown peer or session records nothing and answers success false with RECONNECT", async () => {
  await using h = await manualHub();
  using channel = h.hub.channel();
  const client = clients(channel);

  const stranger = await client.heartbeat.sendHeartbeat({
    peerId: "peer-x",
    sessionId: "no-such-session",
    sequenceNumber: 1n,
    timestamp: BigInt(h.clock.now()),
  });
  assert.equal(stranger.success, false);
  assert.equal(stranger.recommendedAction, RecommendedAction.RECONNECT);
  assert.equal(stranger.currentSystemRegisterVersion, 1n);
  assert.match(stranger.message, /Peer "peer-x" has no session on this hub .*: reconnect/);
  await rejectsWithCode(
    client.heartbeat.getHeartbeatStatus({ peerId: "peer-x" }),
    "not_found",
    /peer "peer-x": it has not connected to this hub/,
  );

  const peer = await Peer.connect("peer-1", client, h.clock);
  const wrong = await client.heartbeat.sendHeartbeat({
    peerId: "peer-1",
    sessionId: "someone-elses",
    sequenceNumber: 1n,
  });
  assert.equal(wrong.success, false);
  assert.equal(wrong.recommendedAction, RecommendedAction.RECONNECT);
  assert.equal((await peer.status()).totalHeartbeatsReceived, 0n, "nothing recorded");
  await rejectsWithCode(
    client.heartbeat.getHeartbeatStatus({ peerId: "peer-1", sessionId: "someone-elses" }),
    "not_found",
    /session "someone-elses" is not its current session/,
  );
});

Deno.test("MonitorHeartbeat answers each beat of the stream, in order, until the peer ends it", async () => {
  await using h = await manualHub();
  const { hub, clock } = h;
  using channel = hub.channel();
  const client = clients(channel);
  const peer = await Peer.connect("peer-1", client, clock);

  using call = client.heartbeat.monitorHeartbeat();
  const acks: HeartbeatAcknowledgement[] = [];
  const reading = (async () => {
    for await (const ack of call) acks.push(ack);
  })();
  for (let sequence = 1n; sequence <= 3n; sequence++) {
    clock.advance(1_000);
    await call.send({
      peerId: "peer-1",
      sessionId: peer.sessionId,
      sequenceNumber: sequence,
      timestamp: BigInt(clock.now()),
      lastSyncVersion: sequence === 3n ? 1n : 0n,
    });
  }
  await call.send({ peerId: "peer-1", sessionId: "stale", sequenceNumber: 4n });
  call.end();
  await reading;

  assert.deepEqual(
    acks.map((ack) => [ack.success, ack.recommendedAction]),
    [
      [true, RecommendedAction.SYNC],
      [true, RecommendedAction.SYNC],
      [true, RecommendedAction.NONE],
      [false, RecommendedAction.RECONNECT],
    ],
  );
  const status = await peer.status();
  assert.equal(status.totalHeartbeatsReceived, 3n);
  assert.equal(status.lastKnownSyncVersion, 1n);
});

Deno.test("repeated and out-of-order sequence numbers keep the peer alive but are not counted twice", async () => {
  await using h = await manualHub();
  const { hub, clock } = h;
  using channel = hub.channel();
  const peer = await Peer.connect("peer-1", clients(channel), clock);

  const messages: string[] = [];
  // The counted beats report version 1; the replayed ones an older 0, which must not count.
  for (const [sequence, lastSyncVersion] of [[1n, 1n], [2n, 1n], [2n, 0n], [1n, 0n], [3n, 1n]]) {
    clock.advance(INTERVAL_S * 1000);
    const ack = await peer.beat({ sequence, lastSyncVersion });
    assert.equal(ack.success, true);
    messages.push(ack.message);
  }
  assert.match(messages[2]!, /sequence number 2 is not above 2: not counted/);
  assert.match(messages[3]!, /sequence number 1 is not above 2: not counted/);
  assert.doesNotMatch(messages[4]!, /not counted/);
  const status = await peer.status();
  assert.equal(status.totalHeartbeatsReceived, 3n, "1, 2 and 3, each once");
  assert.equal(status.lastKnownSyncVersion, 1n, "the replayed beats' version is ignored");
  assert.equal(status.versionLag, 0n);
  assert.equal(status.totalHeartbeatsMissed, 0n, "late by less than the grace each time");
  assert.equal(status.healthStatus, HeartbeatHealthStatus.HEALTHY);
});

Deno.test("a beat whose timestamp is more than 60 s off is accepted, and the skew is reported", async () => {
  await using h = await manualHub();
  const { hub, clock } = h;
  using channel = hub.channel();
  const client = clients(channel);
  const behind = await Peer.connect("peer-slow", client, clock);
  const ahead = await Peer.connect("peer-fast", client, clock);

  const slow = await behind.beat({ timestamp: clock.now() - 90_000 });
  assert.equal(slow.success, true);
  assert.match(slow.message, /clock off by 90 s \(peer behind\)/);
  const fast = await ahead.beat({ timestamp: clock.now() + 120_000 });
  assert.equal(fast.success, true);
  assert.match(fast.message, /clock off by 120 s \(peer ahead\)/);

  const slowStatus = await behind.status();
  assert.equal(slowStatus.totalHeartbeatsReceived, 1n);
  assert.equal(slowStatus.healthStatus, HeartbeatHealthStatus.HEALTHY);
  assert.match(slowStatus.statusMessage, /clock off by 90 s \(peer behind\)/);
  assert.equal(slowStatus.averageLatencyMs, 0, "a skewed beat gives no latency sample");
  assert.match((await ahead.status()).statusMessage, /clock off by 120 s \(peer ahead\)/);

  const sane = await behind.beat({ timestamp: clock.now() - 40 });
  assert.equal(sane.message, "1 version(s) behind the hub's 1: sync", "no skew to report");
  const after = await behind.status();
  assert.doesNotMatch(after.statusMessage, /clock off/, "reported while it lasts");
  assert.equal(after.averageLatencyMs, 40);
});

Deno.test("a peer that stops beating goes WARNING, then CRITICAL, then is dropped from the active set", async () => {
  await using h = await manualHub();
  const { hub, clock, scheduler } = h;
  using channel = hub.channel();
  const client = clients(channel);
  const silent = await Peer.connect("peer-silent", client, clock);
  const steady = await Peer.connect("peer-steady", client, clock);
  await silent.beat();
  await steady.beat();
  /** Moves time on while peer-steady keeps beating. */
  const pass = async (ms: number) => {
    clock.advance(ms);
    await steady.beat();
    await scheduler.tick();
  };
  const activePeers = async () =>
    (await client.connection.getCentralNodeStatus({})).activePeerCount;
  const peerStatus = async () =>
    (await client.connection.getCentralNodeStatus({ includePeerList: true })).connectedPeers
      .find((p) => p.peerId === "peer-silent")?.status;

  await pass((INTERVAL_S + TIMEOUT_S) * 1000);
  let status = await silent.status();
  assert.equal(status.healthStatus, HeartbeatHealthStatus.HEALTHY, "on the deadline: not late");
  assert.equal(await peerStatus(), PeerConnectionStatus.CONNECTED);

  await pass(1_000);
  status = await silent.status();
  assert.equal(status.healthStatus, HeartbeatHealthStatus.WARNING);
  assert.equal(status.isHealthy, false);
  assert.equal(status.missedHeartbeats, 1);
  assert.match(status.statusMessage, /^warning: 1 heartbeat missed/);
  assert.equal(await peerStatus(), PeerConnectionStatus.HEARTBEAT_TIMEOUT);
  assert.equal(await activePeers(), 2);

  await pass(INTERVAL_S * 1000);
  status = await silent.status();
  assert.equal(status.healthStatus, HeartbeatHealthStatus.CRITICAL);
  assert.equal(status.missedHeartbeats, 2);
  assert.match(status.statusMessage, /^critical: 2 heartbeats missed/);
  assert.equal(await activePeers(), 2);
  assert.equal(
    (await steady.status()).healthStatus,
    HeartbeatHealthStatus.HEALTHY,
    "a beating peer stays healthy throughout",
  );

  await pass(INTERVAL_S * 1000);
  assert.equal(await activePeers(), 1, "dropped at the third missed beat");
  assert.equal(await peerStatus(), undefined);
  status = await silent.status();
  assert.equal(status.healthStatus, HeartbeatHealthStatus.DISCONNECTED);
  assert.equal(status.isHealthy, false);
  assert.equal(status.missedHeartbeats, 3);
  assert.match(status.statusMessage, /^disconnected \(heartbeat_timeout\) at /);
  assert.equal(hub.sessions.session("peer-silent"), undefined, "the sweep removed the session");

  const late = await silent.beat();
  assert.equal(late.success, false);
  assert.equal(late.recommendedAction, RecommendedAction.RECONNECT);
  const back = await Peer.connect("peer-silent", client, clock);
  assert.equal((await back.status()).healthStatus, HeartbeatHealthStatus.HEALTHY);
  assert.equal(await activePeers(), 2, "a reconnect makes it active again");
});

Deno.test("a peer past its last beat is left out of the active set even before the sweep runs", async () => {
  await using h = await manualHub();
  const { hub, clock } = h;
  using channel = hub.channel();
  const client = clients(channel);
  const peer = await Peer.connect("peer-1", client, clock);

  clock.advance((INTERVAL_S * 3 + TIMEOUT_S) * 1000);
  assert.equal((await client.connection.getCentralNodeStatus({})).activePeerCount, 0);
  assert.equal((await peer.status()).healthStatus, HeartbeatHealthStatus.TIMEOUT);
  const late = await peer.beat();
  assert.equal(late.success, false, "a beat after the drop deadline is told to reconnect");
  assert.equal(late.recommendedAction, RecommendedAction.RECONNECT);
  assert.equal((await peer.status()).healthStatus, HeartbeatHealthStatus.DISCONNECTED);
  assert.equal(hub.sessions.activeCount(), 0);
});

Deno.test("GetHeartbeatStatus with no peer id summarises every active peer, with the worst health", async () => {
  await using h = await manualHub();
  const { hub, clock } = h;
  using channel = hub.channel();
  const client = clients(channel);

  const empty = await client.heartbeat.getHeartbeatStatus({});
  assert.equal(empty.peerId, "");
  assert.equal(empty.statusMessage, "0 active peers: 0 healthy, 0 warning, 0 critical");
  assert.equal(empty.healthStatus, HeartbeatHealthStatus.HEALTHY);

  const a = await Peer.connect("peer-a", client, clock);
  const b = await Peer.connect("peer-b", client, clock);
  const c = await Peer.connect("peer-c", client, clock);
  await a.beat({ lastSyncVersion: 1n });
  await a.beat({ lastSyncVersion: 1n });
  await b.beat();
  await c.beat();
  clock.advance((INTERVAL_S + TIMEOUT_S + 1) * 1000);
  await a.beat({ lastSyncVersion: 1n });
  await b.beat();

  let all = await client.heartbeat.getHeartbeatStatus({ peerId: "" });
  assert.equal(all.statusMessage, "3 active peers: 2 healthy, 1 warning, 0 critical");
  assert.equal(all.healthStatus, HeartbeatHealthStatus.WARNING);
  assert.equal(all.isHealthy, false);
  assert.equal(all.totalHeartbeatsReceived, 6n);
  assert.equal(all.missedHeartbeats, 1, "peer-c's");
  assert.equal(all.versionLag, 1n, "peer-b and peer-c are a version behind");
  assert.equal(all.lastKnownSyncVersion, 0n, "the lowest");
  assert.equal(all.lastHeartbeatTime, BigInt(clock.now()));

  clock.advance(INTERVAL_S * 1000);
  await a.beat({ lastSyncVersion: 1n });
  await b.beat();
  all = await client.heartbeat.getHeartbeatStatus({});
  assert.equal(all.statusMessage, "3 active peers: 2 healthy, 0 warning, 1 critical");
  assert.equal(all.healthStatus, HeartbeatHealthStatus.CRITICAL);
  assert.equal(hub.sessions.activeCount(), 3);
});
