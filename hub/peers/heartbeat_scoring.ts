/**
 * Scoring one heartbeat of a live session: a pure function of the session's
 * figures, the beat and the moment, giving the figures after it and what to
 * answer. {@link PeerSessions} (`sessions.ts`) keeps the figures and decides
 * first whether the beat belongs to a live session at all.
 *
 * - Sequence numbers are monotonic per session: a beat whose number is not
 *   above the highest counted refreshes liveness (the caller moves the last
 *   heartbeat time) but is not counted (totals, latency, sync version).
 * - Skew is `hub now − beat timestamp`. Beyond `skewLimitMs` the beat is
 *   accepted, the skew is reported in the message and the beat gives no
 *   latency sample; otherwise `max(0, skew)` is a latency sample (the
 *   average is over the last {@link LATENCY_SAMPLES}).
 * - A peer behind the hub is told to sync; one ahead of it (another
 *   network, or a register reset) to reset with a full sync.
 * - Heartbeats missed before this one are added to the session's total.
 *
 * @module
 */
import type { RecommendedAction as ProtoRecommendedAction } from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";

/** How many latency samples the average is over. */
export const LATENCY_SAMPLES = 10;

/** What the hub tells a peer to do (a `RecommendedAction` of the contract, by its name). */
export type RecommendedAction = Lowercase<keyof typeof ProtoRecommendedAction>;

/** A session's heartbeat counters. */
export interface BeatCounters {
  /** The highest sequence number counted; undefined before the first beat. */
  highestSequence: number | undefined;
  /** Beats counted. */
  totalReceived: number;
  /** Beats missed, up to the last beat. */
  totalMissed: number;
  /** Latency samples (ms), oldest first, at most {@link LATENCY_SAMPLES}. */
  latencies: readonly number[];
  /** The skew of the last counted beat, when beyond the limit. */
  excessiveSkewMs: number | undefined;
}

/** Counters of a session that has not beaten yet. */
export const NO_BEATS: BeatCounters = {
  highestSequence: undefined,
  totalReceived: 0,
  totalMissed: 0,
  latencies: [],
  excessiveSkewMs: undefined,
};

/** A heartbeat of a peer (the parts of the contract's `HeartbeatMessage` the hub uses). */
export interface HeartbeatInput {
  /** The peer's id. */
  peerId: string;
  /** The session it beats for. */
  sessionId: string;
  /** The peer's clock when it sent the beat (ms since the epoch). */
  timestamp: number;
  /** Monotonic per session. */
  sequenceNumber: number;
  /** The system-register version the peer holds. */
  lastSyncVersion: number;
  /** Whether the peer is syncing. */
  isSyncing?: boolean;
}

/** What a heartbeat did and what to answer. */
export interface HeartbeatOutcome {
  /** Whether the beat is for the peer's current session (if not, nothing was recorded). */
  known: boolean;
  /** Whether it counted (a new, higher sequence number). */
  counted: boolean;
  /** How many versions the peer is behind the hub. */
  versionLag: number;
  /** What the peer should do. */
  action: RecommendedAction;
  /** Hub clock minus the beat's timestamp (ms). */
  skewMs: number;
  /** Heartbeats missed before this one (added to the session's total). */
  missedBefore: number;
  /** A message for the peer. */
  message: string;
}

/** What a beat is scored against. */
export interface ScoringContext {
  /** The hub's clock now (ms). */
  now: number;
  /** The hub's system-register version. */
  hubVersion: number;
  /** Heartbeats the session missed before this beat. */
  missedBefore: number;
  /** Largest skew (ms) whose beats count for latency. */
  skewLimitMs: number;
}

/** A session's figures that a beat changes. */
export interface ScoredSession {
  /** The version the peer last reported or synced to. */
  lastSyncVersion: number;
  /** Whether its last counted beat said it was syncing. */
  isSyncing: boolean;
  /** Its heartbeat counters. */
  counters: BeatCounters;
}

/** A scored beat: the session's figures after it, and the answer. */
export interface ScoredBeat extends ScoredSession {
  /** What the beat did and what to answer. */
  outcome: HeartbeatOutcome;
}

/** "clock off by 75 s (peer behind)" for a skew of 75,000 ms. */
export function describeSkew(skewMs: number): string {
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  return `clock off by ${seconds} s (peer ${skewMs < 0 ? "ahead" : "behind"})`;
}

/** The answer to a beat for no live session: nothing is recorded, the peer should reconnect. */
export function unknownBeat(why: string, skewMs: number): HeartbeatOutcome {
  return {
    known: false,
    counted: false,
    versionLag: 0,
    action: "reconnect",
    skewMs,
    missedBefore: 0,
    message: `${why}: reconnect`,
  };
}

/** What `beat` makes of `session` at `context.now` (see the module); `session` is not changed. */
export function scoreHeartbeat(
  session: ScoredSession,
  beat: HeartbeatInput,
  context: ScoringContext,
): ScoredBeat {
  const { now, hubVersion, missedBefore, skewLimitMs } = context;
  const skewMs = now - beat.timestamp;
  const before = session.counters;
  const counted = before.highestSequence === undefined ||
    beat.sequenceNumber > before.highestSequence;
  const excessive = Math.abs(skewMs) > skewLimitMs;
  const counters: BeatCounters = !counted
    ? { ...before, totalMissed: before.totalMissed + missedBefore }
    : {
      highestSequence: beat.sequenceNumber,
      totalReceived: before.totalReceived + 1,
      totalMissed: before.totalMissed + missedBefore,
      latencies: excessive
        ? before.latencies
        : [...before.latencies, Math.max(0, skewMs)].slice(-LATENCY_SAMPLES),
      excessiveSkewMs: excessive ? skewMs : undefined,
    };
  const lastSyncVersion = counted ? beat.lastSyncVersion : session.lastSyncVersion;
  const isSyncing = counted ? beat.isSyncing ?? false : session.isSyncing;

  const versionLag = Math.max(0, hubVersion - lastSyncVersion);
  const parts: string[] = [];
  let action: RecommendedAction = "none";
  if (lastSyncVersion > hubVersion) {
    action = "sync";
    parts.push(
      `version ${lastSyncVersion} is ahead of the hub's ${hubVersion}: reset with a full sync`,
    );
  } else if (versionLag > 0) {
    action = "sync";
    parts.push(`${versionLag} version(s) behind the hub's ${hubVersion}: sync`);
  } else {
    parts.push("up to date");
  }
  if (!counted) {
    parts.push(
      `sequence number ${beat.sequenceNumber} is not above ${before.highestSequence}: not counted`,
    );
  }
  if (excessive) parts.push(describeSkew(skewMs));
  return {
    lastSyncVersion,
    isSyncing,
    counters,
    outcome: {
      known: true,
      counted,
      versionLag,
      action,
      skewMs,
      missedBefore,
      message: parts.join("; "),
    },
  };
}
