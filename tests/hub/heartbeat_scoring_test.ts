/**
 * Heartbeat scoring, a pure function: what one beat makes of a session's
 * figures (counted or not, latency samples, skew, sync version, missed
 * beats) and what the peer is told, without changing what it was given.
 */
import assert from "node:assert/strict";
import {
  type HeartbeatInput,
  LATENCY_SAMPLES,
  NO_BEATS,
  type ScoredSession,
  scoreHeartbeat,
  unknownBeat,
} from "../../hub/peers/heartbeat_scoring.ts";

const NOW = 1_700_000_000_000;
const FRESH: ScoredSession = { lastSyncVersion: 0, isSyncing: false, counters: NO_BEATS };

function beat(overrides: Partial<HeartbeatInput> = {}): HeartbeatInput {
  return {
    peerId: "p1",
    sessionId: "s1",
    timestamp: NOW - 20,
    sequenceNumber: 1,
    lastSyncVersion: 5,
    ...overrides,
  };
}

const context = { now: NOW, hubVersion: 5, missedBefore: 0, skewLimitMs: 60_000 };

Deno.test("a first beat is counted: its version, its syncing flag and a latency sample", () => {
  const scored = scoreHeartbeat(FRESH, beat({ isSyncing: true }), context);
  assert.equal(scored.lastSyncVersion, 5);
  assert.equal(scored.isSyncing, true);
  assert.deepEqual(scored.counters, {
    highestSequence: 1,
    totalReceived: 1,
    totalMissed: 0,
    latencies: [20],
    excessiveSkewMs: undefined,
  });
  assert.deepEqual(scored.outcome, {
    known: true,
    counted: true,
    versionLag: 0,
    action: "none",
    skewMs: 20,
    missedBefore: 0,
    message: "up to date",
  });
});

Deno.test("scoring changes nothing it was given", () => {
  const session: ScoredSession = {
    lastSyncVersion: 2,
    isSyncing: true,
    counters: { ...NO_BEATS, latencies: [1, 2] },
  };
  const copy = structuredClone(session);
  scoreHeartbeat(session, beat({ sequenceNumber: 9 }), context);
  assert.deepEqual(session, copy);
  assert.deepEqual(NO_BEATS.latencies, []);
});

Deno.test("a repeated sequence number is not counted: version, flag, totals and latency stay", () => {
  const first = scoreHeartbeat(FRESH, beat({ sequenceNumber: 4 }), context);
  const repeat = scoreHeartbeat(
    first,
    beat({ sequenceNumber: 4, lastSyncVersion: 99, isSyncing: true, timestamp: NOW - 500 }),
    { ...context, missedBefore: 1 },
  );
  assert.equal(repeat.outcome.counted, false);
  assert.equal(repeat.lastSyncVersion, 5);
  assert.equal(repeat.isSyncing, false);
  assert.equal(repeat.counters.totalReceived, 1);
  assert.deepEqual(repeat.counters.latencies, [20]);
  assert.equal(repeat.counters.totalMissed, 1, "missed beats still add up");
  assert.match(repeat.outcome.message, /sequence number 4 is not above 4: not counted/);
});

Deno.test("the peer is told to sync when behind, and to reset when ahead of the hub", () => {
  const behind = scoreHeartbeat(FRESH, beat({ lastSyncVersion: 3 }), {
    ...context,
    hubVersion: 10,
  });
  assert.equal(behind.outcome.action, "sync");
  assert.equal(behind.outcome.versionLag, 7);
  assert.equal(behind.outcome.message, "7 version(s) behind the hub's 10: sync");
  const ahead = scoreHeartbeat(FRESH, beat({ lastSyncVersion: 12 }), {
    ...context,
    hubVersion: 10,
  });
  assert.equal(ahead.outcome.action, "sync");
  assert.equal(ahead.outcome.versionLag, 0);
  assert.equal(
    ahead.outcome.message,
    "version 12 is ahead of the hub's 10: reset with a full sync",
  );
});

Deno.test("a skew beyond the limit is reported and kept, and gives no latency sample", () => {
  const skewed = scoreHeartbeat(FRESH, beat({ timestamp: NOW + 90_000 }), context);
  assert.equal(skewed.outcome.counted, true);
  assert.equal(skewed.counters.excessiveSkewMs, -90_000);
  assert.deepEqual(skewed.counters.latencies, []);
  assert.equal(skewed.outcome.message, "up to date; clock off by 90 s (peer ahead)");
  const next = scoreHeartbeat(skewed, beat({ sequenceNumber: 2, timestamp: NOW + 10 }), context);
  assert.equal(next.counters.excessiveSkewMs, undefined);
  assert.deepEqual(next.counters.latencies, [0], "a peer slightly ahead gives 0, not less");
});

Deno.test(`only the last ${LATENCY_SAMPLES} latency samples are kept`, () => {
  let session = FRESH;
  for (let n = 1; n <= LATENCY_SAMPLES + 3; n++) {
    session = scoreHeartbeat(session, beat({ sequenceNumber: n, timestamp: NOW - n }), context);
  }
  assert.deepEqual(
    session.counters.latencies,
    Array.from({ length: LATENCY_SAMPLES }, (_, i) => i + 4),
  );
});

Deno.test("a beat for no live session asks the peer to reconnect and counts nothing", () => {
  assert.deepEqual(unknownBeat('Peer "p9" has no session on this hub', 15), {
    known: false,
    counted: false,
    versionLag: 0,
    action: "reconnect",
    skewMs: 15,
    missedBefore: 0,
    message: 'Peer "p9" has no session on this hub: reconnect',
  });
});
