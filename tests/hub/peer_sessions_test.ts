/**
 * The hub's peer sessions: connect, disconnect, heartbeats, health, sweep.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import { AppError } from "../../shared/errors.ts";
import { healthFor, missedAt } from "../../hub/peers/health.ts";
import type { HeartbeatInput } from "../../hub/peers/heartbeat_scoring.ts";
import type { DroppedPeer, Session } from "../../hub/peers/session.ts";
import { PeerSessions, type PeerSessionsOptions } from "../../hub/peers/sessions.ts";

const INTERVAL = 30_000;
const TIMEOUT = 10_000;

function sessions(options: Partial<PeerSessionsOptions> = {}) {
  const clock = new ManualClock();
  const hub = new PeerSessions({
    clock,
    heartbeatIntervalMs: INTERVAL,
    heartbeatTimeoutMs: TIMEOUT,
    ...options,
  });
  return { clock, hub };
}

function connect(hub: PeerSessions, peerId = "p1", lastKnownVersion = 0): Session {
  return hub.connect({
    peerId,
    address: "10.0.0.1",
    port: 5000,
    nodeType: "Peer",
    capabilities: {
      supportsPushNotifications: true,
      supportsIncrementalSync: true,
      maxBlueprintSize: 16 * 1024 * 1024,
      isNatRestricted: false,
    },
    lastKnownVersion,
    connectionTime: 0,
  });
}

function beat(
  clock: ManualClock,
  session: Session,
  overrides: Partial<HeartbeatInput> = {},
): HeartbeatInput {
  return {
    peerId: session.peerId,
    sessionId: session.sessionId,
    timestamp: clock.now(),
    sequenceNumber: 1,
    lastSyncVersion: 0,
    ...overrides,
  };
}

function assertAppError(code: string, pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  };
}

Deno.test("the health rule: nothing missed until interval plus timeout, then one per interval", () => {
  const timing = { intervalMs: INTERVAL, timeoutMs: TIMEOUT };
  assert.equal(missedAt(0, INTERVAL + TIMEOUT, timing), 0);
  assert.equal(missedAt(0, INTERVAL + TIMEOUT + 1, timing), 1);
  assert.equal(missedAt(0, 2 * INTERVAL + TIMEOUT - 1, timing), 1);
  assert.equal(missedAt(0, 2 * INTERVAL + TIMEOUT, timing), 2);
  assert.deepEqual([0, 1, 2, 3, 4].map((missed) => healthFor(missed, 3)), [
    "healthy",
    "warning",
    "critical",
    "timeout",
    "timeout",
  ]);
});

Deno.test("connect gives a session, and connecting again replaces it with a new one", () => {
  const { clock, hub } = sessions();
  const first = connect(hub, "p1", 7);
  assert.equal(first.peerId, "p1");
  assert.equal(first.connectedAt, clock.now());
  assert.equal(first.lastHeartbeatAt, first.connectedAt);
  assert.equal(first.lastSyncVersion, 7);
  assert.match(first.sessionId, /^[0-9a-f-]{36}$/);

  clock.advance(1000);
  const second = connect(hub, "p1", 8);
  assert.notEqual(second.sessionId, first.sessionId);
  assert.equal(hub.session("p1")?.sessionId, second.sessionId);
  assert.equal(hub.activeCount(), 1);
  assert.throws(
    () => hub.requireSession("p1", first.sessionId),
    assertAppError("not_found", /not the current session/),
  );
  assert.equal(hub.requireSession("p1", second.sessionId).lastSyncVersion, 8);
});

Deno.test("disconnect with a wrong session is not_found and changes nothing", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  assert.throws(
    () => hub.disconnect({ peerId: "p1", sessionId: "other", reason: "client_request" }),
    assertAppError(
      "not_found",
      /Cannot disconnect peer "p1": session "other" is not its current session/,
    ),
  );
  assert.throws(
    () => hub.disconnect({ peerId: "nobody", sessionId: "x", reason: "shutdown" }),
    assertAppError("not_found", /Cannot disconnect peer "nobody": it is not connected/),
  );
  assert.equal(hub.session("p1")?.sessionId, session.sessionId);
  assert.equal(hub.activeCount(), 1);

  clock.advance(500);
  const { disconnectedAt } = hub.disconnect({
    peerId: "p1",
    sessionId: session.sessionId,
    reason: "client_request",
  });
  assert.equal(disconnectedAt, clock.now());
  assert.equal(hub.session("p1"), undefined);
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 0 })?.health, "disconnected");
});

Deno.test("a heartbeat computes the version lag and asks a peer behind to sync", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  const behind = hub.recordHeartbeat(beat(clock, session, { lastSyncVersion: 3 }), {
    hubVersion: 10,
  });
  assert.equal(behind.known, true);
  assert.equal(behind.counted, true);
  assert.equal(behind.versionLag, 7);
  assert.equal(behind.action, "sync");
  assert.equal(hub.session("p1")?.lastSyncVersion, 3);

  const current = hub.recordHeartbeat(
    beat(clock, session, { sequenceNumber: 2, lastSyncVersion: 10 }),
    { hubVersion: 10 },
  );
  assert.equal(current.versionLag, 0);
  assert.equal(current.action, "none");

  const ahead = hub.recordHeartbeat(
    beat(clock, session, { sequenceNumber: 3, lastSyncVersion: 12 }),
    { hubVersion: 10 },
  );
  assert.equal(ahead.versionLag, 0);
  assert.equal(ahead.action, "sync");
  assert.match(ahead.message, /full sync/);

  hub.markSyncVersion("p1", 10);
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 11 })?.versionLag, 1);
});

Deno.test("repeated and out-of-order sequence numbers are not counted twice", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  const first = hub.recordHeartbeat(beat(clock, session, { sequenceNumber: 0 }), {
    hubVersion: 0,
  });
  assert.equal(first.counted, true, "sequence number 0 counts as a first beat");
  assert.equal(
    hub.recordHeartbeat(beat(clock, session, { sequenceNumber: 5 }), { hubVersion: 0 }).counted,
    true,
  );
  clock.advance(1000);
  const repeat = hub.recordHeartbeat(
    beat(clock, session, { sequenceNumber: 5, lastSyncVersion: 99 }),
    { hubVersion: 0 },
  );
  const older = hub.recordHeartbeat(beat(clock, session, { sequenceNumber: 3 }), {
    hubVersion: 0,
  });
  assert.equal(repeat.known, true);
  assert.equal(repeat.counted, false);
  assert.equal(older.counted, false);
  const status = hub.heartbeatStatus("p1", { hubVersion: 0 })!;
  assert.equal(status.totalReceived, 2);
  assert.equal(status.lastKnownSyncVersion, 0, "an uncounted beat does not move the version");
  assert.equal(status.lastHeartbeatTime, clock.now(), "an uncounted beat still shows liveness");
});

Deno.test("a skew over 60 s is accepted and reported, and not used for latency", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  const outcome = hub.recordHeartbeat(
    beat(clock, session, { timestamp: clock.now() - 75_000 }),
    { hubVersion: 0 },
  );
  assert.equal(outcome.known, true);
  assert.equal(outcome.counted, true);
  assert.equal(outcome.skewMs, 75_000);
  assert.match(outcome.message, /clock off by 75 s/);
  const status = hub.heartbeatStatus("p1", { hubVersion: 0 })!;
  assert.match(status.statusMessage, /clock off by 75 s/);
  assert.equal(status.averageLatencyMs, 0);
  assert.equal(status.totalReceived, 1);

  hub.recordHeartbeat(
    beat(clock, session, { sequenceNumber: 2, timestamp: clock.now() + 90_000 }),
    { hubVersion: 0 },
  );
  assert.match(
    hub.heartbeatStatus("p1", { hubVersion: 0 })!.statusMessage,
    /clock off by 90 s \(peer ahead\)/,
  );
  hub.recordHeartbeat(beat(clock, session, { sequenceNumber: 3 }), { hubVersion: 0 });
  assert.doesNotMatch(hub.heartbeatStatus("p1", { hubVersion: 0 })!.statusMessage, /clock off/);
});

Deno.test("the latency average is over the last 10 beats", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  // Latencies 100, 200, ..., 1500, then 0: the last ten are 700..1500 and 0.
  for (let n = 1; n <= 15; n++) {
    hub.recordHeartbeat(
      beat(clock, session, { sequenceNumber: n, timestamp: clock.now() - 100 * n }),
      { hubVersion: 0 },
    );
  }
  // A peer clock slightly ahead gives a latency of 0, not a negative one.
  hub.recordHeartbeat(
    beat(clock, session, { sequenceNumber: 16, timestamp: clock.now() + 500 }),
    { hubVersion: 0 },
  );
  const status = hub.heartbeatStatus("p1", { hubVersion: 0 })!;
  assert.equal(
    status.averageLatencyMs,
    (700 + 800 + 900 + 1000 + 1100 + 1200 + 1300 + 1400 + 1500) / 10,
  );
  assert.equal(status.totalReceived, 16);
});

Deno.test("warning after one missed interval, critical after two, dropped after maxMissed", () => {
  const dropped: DroppedPeer[] = [];
  const { clock, hub } = sessions({ onDropped: (peer) => dropped.push(peer) });
  const session = connect(hub);
  const health = () => hub.heartbeatStatus("p1", { hubVersion: 0 })?.health;

  clock.advance(INTERVAL + TIMEOUT);
  assert.equal(health(), "healthy");
  assert.equal(hub.connectedPeers()[0]?.status, "connected");
  clock.advance(1);
  assert.equal(health(), "warning");
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 0 })?.isHealthy, false);
  assert.equal(hub.connectedPeers()[0]?.status, "heartbeat_timeout");
  clock.advance(INTERVAL);
  assert.equal(health(), "critical");
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 0 })?.missedHeartbeats, 2);
  assert.deepEqual(hub.sweep(), [], "a critical peer is not dropped yet");
  assert.equal(hub.activeCount(), 1);

  clock.advance(INTERVAL);
  assert.equal(health(), "timeout");
  assert.deepEqual(hub.active(), [], "active leaves out a timed-out peer before any sweep");
  assert.equal(hub.activeCount(), 0);
  assert.equal(hub.session("p1"), undefined);
  assert.deepEqual(hub.connectedPeers(), []);
  assert.deepEqual(hub.heartbeatStatuses({ hubVersion: 0 }), []);

  const swept = hub.sweep();
  assert.deepEqual(swept.map((peer) => [peer.peerId, peer.sessionId, peer.reason]), [
    ["p1", session.sessionId, "heartbeat_timeout"],
  ]);
  assert.equal(swept[0]!.missedHeartbeats, 3);
  assert.deepEqual(dropped, swept);
  assert.deepEqual(hub.sweep(), []);
  const status = hub.heartbeatStatus("p1", { hubVersion: 0 })!;
  assert.equal(status.health, "disconnected");
  assert.equal(status.isHealthy, false);
  assert.equal(status.sessionId, session.sessionId);
  assert.equal(hub.heartbeatStatus("nobody", { hubVersion: 0 }), undefined);
});

Deno.test("a heartbeat from an unknown session asks the peer to reconnect and records nothing", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  const wrong = hub.recordHeartbeat(beat(clock, { ...session, sessionId: "stale" }), {
    hubVersion: 5,
  });
  assert.equal(wrong.known, false);
  assert.equal(wrong.counted, false);
  assert.equal(wrong.action, "reconnect");
  assert.match(wrong.message, /not the current session/);
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 5 })!.totalReceived, 0);

  const stranger = hub.recordHeartbeat(beat(clock, { ...session, peerId: "p9" }), {
    hubVersion: 5,
  });
  assert.equal(stranger.known, false);
  assert.equal(stranger.action, "reconnect");
  assert.match(stranger.message, /hub may have restarted/);
  assert.equal(hub.session("p9"), undefined);
});

Deno.test("a heartbeat after its session timed out asks the peer to reconnect", () => {
  const dropped: DroppedPeer[] = [];
  const { clock, hub } = sessions({ onDropped: (peer) => dropped.push(peer) });
  const session = connect(hub);
  clock.advance(INTERVAL + TIMEOUT + 2 * INTERVAL + 1);
  const outcome = hub.recordHeartbeat(beat(clock, session), { hubVersion: 0 });
  assert.equal(outcome.known, false);
  assert.equal(outcome.action, "reconnect");
  assert.match(outcome.message, /timed out after 3 heartbeats missed/);
  assert.equal(dropped.length, 1);
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 0 })?.health, "disconnected");
});

Deno.test("a beat after a gap adds the intervals missed to the totals", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  clock.advance(2 * INTERVAL + TIMEOUT + 1);
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 0 })!.totalMissed, 2);
  const outcome = hub.recordHeartbeat(beat(clock, session), { hubVersion: 0 });
  assert.equal(outcome.missedBefore, 2);
  const status = hub.heartbeatStatus("p1", { hubVersion: 0 })!;
  assert.equal(status.missedHeartbeats, 0);
  assert.equal(status.totalMissed, 2);
  assert.equal(status.health, "healthy");
  assert.equal(status.isHealthy, true);

  clock.advance(INTERVAL);
  hub.recordHeartbeat(beat(clock, session, { sequenceNumber: 2 }), { hubVersion: 0 });
  assert.equal(hub.heartbeatStatus("p1", { hubVersion: 0 })!.totalMissed, 2);
});

Deno.test("a syncing peer is listed as syncing", () => {
  const { clock, hub } = sessions();
  const session = connect(hub);
  hub.recordHeartbeat(beat(clock, session, { isSyncing: true }), { hubVersion: 0 });
  assert.equal(hub.connectedPeers()[0]?.status, "syncing");
});

Deno.test("no more than maxPeers peers connect; a known peer may reconnect, a timed-out one frees room", () => {
  const { clock, hub } = sessions({ maxPeers: 2 });
  connect(hub, "p1");
  clock.advance(INTERVAL);
  connect(hub, "p2");
  assert.throws(() => connect(hub, "p3"), assertAppError("resource_exhausted", /limit of 2 peers/));
  assert.equal(hub.activeCount(), 2);
  connect(hub, "p2");
  assert.equal(hub.activeCount(), 2);

  // p1 last beat INTERVAL earlier than p2: it times out first.
  clock.advance(3 * INTERVAL + TIMEOUT - INTERVAL + 1);
  assert.equal(hub.activeCount(), 1);
  connect(hub, "p3");
  assert.deepEqual(hub.active().map((session) => session.peerId).sort(), ["p2", "p3"]);
});
