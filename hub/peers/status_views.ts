/**
 * What the hub shows of its peers' sessions: a peer's heartbeat status (for
 * `GetHeartbeatStatus` and `GET /api/peers`), the summary of every active
 * peer, and a connected peer as listed in the hub's status. Pure functions
 * of a session, its counters and the moment; `hub/grpc/messages.ts` turns
 * them into contract messages, `hub/http/routes.ts` into JSON.
 *
 * @module
 */
import type { PeerConnectionStatus } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { describeMissed, healthFor, type HeartbeatHealth } from "./health.ts";
import { type BeatCounters, describeSkew } from "./heartbeat_scoring.ts";
import type { DroppedPeer, Session } from "./session.ts";

/** Health as reported: a live session's, or "disconnected" for one that ended. */
export type HeartbeatStatusHealth = HeartbeatHealth | "disconnected";

/** A peer's heartbeat status (the contract's `HeartbeatStatus`, in the hub's terms). */
export interface HeartbeatStatusView {
  /** The peer's id. */
  peerId: string;
  /** Its (last) session's id. */
  sessionId: string;
  /** Its last heartbeat (hub clock). */
  lastHeartbeatTime: number;
  /** Heartbeats missed now (at the drop, for a peer that timed out). */
  missedHeartbeats: number;
  /** Whether its health is "healthy". */
  isHealthy: boolean;
  /** Health, skew and lag in words. */
  statusMessage: string;
  /** Beats counted in the session. */
  totalReceived: number;
  /** Beats missed in the session, including those missed now. */
  totalMissed: number;
  /** Average latency over the last samples (0 without samples). */
  averageLatencyMs: number;
  /** The version the peer last reported or synced to. */
  lastKnownSyncVersion: number;
  /** How many versions it is behind the hub. */
  versionLag: number;
  /** Its health. */
  health: HeartbeatStatusHealth;
}

/** A connected peer as listed in the hub status (the contract's `ConnectedPeerInfo`). */
export interface ConnectedPeerView {
  /** The peer's id. */
  peerId: string;
  /** Its session's id. */
  sessionId: string;
  /** When it connected. */
  connectedAt: number;
  /** Its last heartbeat. */
  lastHeartbeatAt: number;
  /** The version it last reported or synced to. */
  lastSyncVersion: number;
  /** "heartbeat_timeout" while it misses beats, else "syncing" if its last beat said so. */
  status: Extract<
    Lowercase<keyof typeof PeerConnectionStatus>,
    "connected" | "heartbeat_timeout" | "syncing"
  >;
}

/** A session with its heartbeat counters. */
export interface SessionFigures {
  /** The session. */
  session: Session;
  /** Its heartbeat counters. */
  counters: BeatCounters;
}

/** Options of {@link liveStatusView}. */
export interface LiveStatusOptions {
  /** Heartbeats the session has missed now. */
  missed: number;
  /** Missed heartbeats at which a session is dropped. */
  maxMissed: number;
  /** The hub's system-register version. */
  hubVersion: number;
}

function average(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The figures both views share. */
function totals(
  { session, counters }: SessionFigures,
  options: { missedNow: number; hubVersion: number },
): Omit<HeartbeatStatusView, "isHealthy" | "statusMessage" | "health"> {
  return {
    peerId: session.peerId,
    sessionId: session.sessionId,
    lastHeartbeatTime: session.lastHeartbeatAt,
    missedHeartbeats: options.missedNow,
    totalReceived: counters.totalReceived,
    totalMissed: counters.totalMissed + options.missedNow,
    averageLatencyMs: average(counters.latencies),
    lastKnownSyncVersion: session.lastSyncVersion,
    versionLag: Math.max(0, options.hubVersion - session.lastSyncVersion),
  };
}

/** The heartbeat status of a session not yet dropped (possibly timed out, not swept yet). */
export function liveStatusView(
  figures: SessionFigures,
  options: LiveStatusOptions,
): HeartbeatStatusView {
  const { missed, maxMissed, hubVersion } = options;
  const health = healthFor(missed, maxMissed);
  const view = totals(figures, { missedNow: missed, hubVersion });
  const parts: string[] = [
    health === "healthy"
      ? "healthy"
      : health === "timeout"
      ? `timed out: ${describeMissed(missed)}`
      : `${health}: ${describeMissed(missed)}`,
  ];
  const skew = figures.counters.excessiveSkewMs;
  if (skew !== undefined) parts.push(describeSkew(skew));
  if (view.versionLag > 0) parts.push(`${view.versionLag} version(s) behind`);
  return { ...view, isHealthy: health === "healthy", statusMessage: parts.join("; "), health };
}

/** The heartbeat status of a session that ended (`dropped` says when and why). */
export function endedStatusView(
  figures: SessionFigures,
  options: { dropped: DroppedPeer; hubVersion: number },
): HeartbeatStatusView {
  const { dropped, hubVersion } = options;
  return {
    ...totals(figures, { missedNow: dropped.missedHeartbeats, hubVersion }),
    isHealthy: false,
    statusMessage: `disconnected (${dropped.reason}) at ${
      new Date(dropped.droppedAt).toISOString()
    }`,
    health: "disconnected",
  };
}

/** A live session as listed in the hub status, with its health now. */
export function connectedPeerView(session: Session, health: HeartbeatHealth): ConnectedPeerView {
  return {
    peerId: session.peerId,
    sessionId: session.sessionId,
    connectedAt: session.connectedAt,
    lastHeartbeatAt: session.lastHeartbeatAt,
    lastSyncVersion: session.lastSyncVersion,
    status: health !== "healthy"
      ? "heartbeat_timeout"
      : session.isSyncing
      ? "syncing"
      : "connected",
  };
}

/**
 * A summary of every active peer's heartbeat status (GetHeartbeatStatus
 * with no peer id): totals, and the worst health among them.
 */
export function statusSummary(
  views: readonly HeartbeatStatusView[],
  options: { hubVersion: number },
): HeartbeatStatusView {
  const count = (health: HeartbeatStatusHealth) =>
    views.filter((view) => view.health === health).length;
  const latencies = views.filter((view) => view.totalReceived > 0);
  return {
    peerId: "",
    sessionId: "",
    lastHeartbeatTime: Math.max(0, ...views.map((view) => view.lastHeartbeatTime)),
    missedHeartbeats: views.reduce((sum, view) => sum + view.missedHeartbeats, 0),
    isHealthy: views.every((view) => view.isHealthy),
    statusMessage: `${views.length} active peers: ${count("healthy")} healthy, ${
      count("warning")
    } warning, ${count("critical")} critical`,
    totalReceived: views.reduce((sum, view) => sum + view.totalReceived, 0),
    totalMissed: views.reduce((sum, view) => sum + view.totalMissed, 0),
    averageLatencyMs: latencies.length
      ? latencies.reduce((sum, view) => sum + view.averageLatencyMs, 0) / latencies.length
      : 0,
    lastKnownSyncVersion: Math.min(
      options.hubVersion,
      ...views.map((view) => view.lastKnownSyncVersion),
    ),
    versionLag: Math.max(0, ...views.map((view) => view.versionLag)),
    health: count("critical") > 0 ? "critical" : count("warning") > 0 ? "warning" : "healthy",
  };
}
