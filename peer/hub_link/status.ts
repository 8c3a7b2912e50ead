/**
 * What the hub link reports about itself: the connection state (the
 * contract's states), each configured hub, heartbeats, the push
 * subscription and the replica. Plain data (times in ms since the epoch), so
 * the link process can send it to the peer's HTTP process as JSON; the HTTP
 * endpoints shape it for operators (`routes.ts`). `replicaStatus` names the
 * replica's status from how its syncs stand.
 *
 * @module
 */
import type { ReplicaCheckpoint, SyncKind } from "../replica/mod.ts";

/** The contract's connection states (interface.md, `GET /api/connection/status`). */
export const CONNECTION_STATES = [
  "Disconnected",
  "Connecting",
  "Connected",
  "HeartbeatTimeout",
  "Isolated",
] as const;

/** One of {@link CONNECTION_STATES}. */
export type ConnectionState = typeof CONNECTION_STATES[number];

/**
 * A configured hub's state as this peer sees it: `connected` (the current
 * hub), `connecting`, `standby` (not tried, or answered the last probe),
 * `failed` (the last attempt or the session failed), `rate-limited` (it
 * answered RESOURCE_EXHAUSTED: alive, asked to back off).
 */
export type HubState = "standby" | "connecting" | "connected" | "failed" | "rate-limited";

/** One configured hub. */
export interface HubView {
  /** `host:port` as listed in `HUB_NODES`. */
  address: string;
  /** Its place in the list (0 first). */
  priority: number;
  /** See {@link HubState}. */
  state: HubState;
  /** The id the hub gave itself (`central_node_id`), once it answered. */
  centralNodeId: string | null;
  /** The last failure, in words. */
  lastError: string | null;
  /** When it failed last. */
  lastErrorAt: number | null;
  /** When it last answered anything. */
  lastContactAt: number | null;
  /** Attempts or sessions that failed in a row. */
  consecutiveFailures: number;
  /** Fail-back probes answered in a row (hubs above the current one). */
  probeStreak: number;
}

/** The session with the current hub. */
export interface SessionView {
  /** The hub's address. */
  address: string;
  /** The hub's id. */
  centralNodeId: string;
  /** The session id the hub gave. */
  sessionId: string;
  /** When it opened. */
  connectedAt: number;
  /** The hub's version, as it last said. */
  hubVersion: number;
  /** The network identity the hub announced (empty when it does not say). */
  genesisChecksum: string;
}

/** Heartbeats, over every session. */
export interface HeartbeatView {
  /** The last sequence number sent in the current session. */
  sequence: number;
  /** Beats missed in a row (reset by an acknowledged one). */
  consecutiveMisses: number;
  /** Beats sent. */
  totalSent: number;
  /** Beats acknowledged. */
  totalAcknowledged: number;
  /** Beats missed (no answer in time, or an error). */
  totalMissed: number;
  /** Round trip of the last acknowledged beat, in ms. */
  lastLatencyMs: number | null;
  /** Average round trip over the last 10 acknowledged beats, in ms. */
  averageLatencyMs: number | null;
  /** When the last beat was acknowledged. */
  lastAcknowledgedAt: number | null;
  /** The last action the hub recommended (`NONE`, `SYNC`, ...). */
  lastAction: string | null;
  /** Time between beats now, in ms (doubled by REDUCE_FREQUENCY or rate limits). */
  intervalMs: number;
  /** A beat's deadline, in ms. */
  timeoutMs: number;
  /** Misses in a row that make the peer fail over. */
  maxMissed: number;
}

/** The push subscription to the current hub. */
export interface SubscriptionView {
  /** `subscribed` (the hub's first frame came), `subscribing`, or `down`. */
  state: "subscribed" | "subscribing" | "down";
  /** When it entered that state. */
  since: number;
  /** Notifications of publications received, over every subscription. */
  notifications: number;
  /** When the last one came. */
  lastNotificationAt: number | null;
  /** Why it is down, if it is. */
  lastError: string | null;
}

/** How one sync went. */
export interface SyncResult {
  /** Full (the replica replaced) or incremental (from the cursor). */
  kind: SyncKind;
  /** Why it ran. */
  reason: string;
  /** The cursor before. */
  fromVersion: number;
  /** The cursor after. */
  toVersion: number;
  /** Entries received. */
  entries: number;
  /** Whether the replica was compared with the hub's digest: `equal`, or `unchecked` when the hub could not say. */
  digest: "equal" | "unchecked";
  /** How long it took, in ms. */
  durationMs: number;
  /** When it ended. */
  at: number;
}

/** The replica and its syncs. */
export interface ReplicaView {
  /** The persisted checkpoint; null for a replica never synced. */
  checkpoint: ReplicaCheckpoint | null;
  /** `UP_TO_DATE`, `BEHIND`, `SYNCING` or `SYNC_FAILED` (the contract's CheckpointStatus), or `EMPTY`. */
  status: "UP_TO_DATE" | "BEHIND" | "SYNCING" | "SYNC_FAILED" | "EMPTY";
  /** Whether a sync runs. */
  syncing: boolean;
  /** The last sync that completed. */
  lastResult: SyncResult | null;
  /** The last failure, in words, until a sync succeeds. */
  lastError: string | null;
  /** When it failed. */
  lastErrorAt: number | null;
  /** When the next periodic sync is due. */
  nextSyncDueAt: number | null;
  /** Full syncs completed. */
  fullSyncs: number;
  /** Incremental syncs completed. */
  incrementalSyncs: number;
  /** Syncs that failed. */
  failedSyncs: number;
  /** Entries rejected (bad checksum, bad fields), never applied. */
  rejectedEntries: number;
  /** Times the replica's digest differed from the hub's (each followed by a full resync). */
  digestMismatches: number;
  /** Entries whose document the hub withheld (larger than this peer takes). */
  withheldEntries: number;
}

/** A failover from one hub to another (or a fail-back). */
export interface FailoverView {
  /** The hub left. */
  from: string;
  /** The hub now connected, or null while none answered. */
  to: string | null;
  /** Why. */
  reason: string;
  /** When. */
  at: number;
}

/** Everything the link reports. */
export interface HubLinkStatus {
  /** The connection state. */
  state: ConnectionState;
  /** When it entered that state. */
  stateSince: number;
  /** When the peer became isolated (every hub failed a whole round), while it is. */
  isolatedSince: number | null;
  /** The current session, if any. */
  session: SessionView | null;
  /** Every configured hub, in priority order. */
  hubs: HubView[];
  /** Heartbeats. */
  heartbeat: HeartbeatView;
  /** The push subscription. */
  subscription: SubscriptionView;
  /** The replica. */
  replica: ReplicaView;
  /** Failovers since start. */
  failovers: number;
  /** The last few failovers, newest last. */
  recentFailovers: FailoverView[];
  /** When the link started. */
  startedAt: number;
}

/** The replica's status from how its syncs stand, its checkpoint and the hub's version. */
export function replicaStatus(state: {
  syncing: boolean;
  failing: boolean;
  checkpoint: ReplicaCheckpoint | null;
  hubVersion: number | undefined;
}): ReplicaView["status"] {
  const { checkpoint, hubVersion } = state;
  if (state.syncing) return "SYNCING";
  if (state.failing) return "SYNC_FAILED";
  if (!checkpoint) return "EMPTY";
  if (hubVersion !== undefined && hubVersion > checkpoint.version) return "BEHIND";
  return "UP_TO_DATE";
}
