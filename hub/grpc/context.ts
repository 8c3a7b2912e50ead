/**
 * What the hub's gRPC services share: identity, the register, the peer
 * sessions and sync records, limits, and the settings peers are told.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import type { Clock } from "../../shared/clock.ts";
import type { PeerSessions } from "../peers/sessions.ts";
import type { SyncLog } from "../peers/sync_log.ts";
import type { SystemRegister } from "../system_register/mod.ts";
import type { EntryCache } from "./entry_cache.ts";
import type { SyncRecorder } from "./metrics.ts";
import type { ConcurrencyLimiter, RateLimiter } from "./rate_limit.ts";

/** Settings the hub gives peers when they connect. */
export interface PeerSettings {
  /** How often a peer should beat, in seconds. */
  heartbeatIntervalSeconds: number;
  /** How long the hub waits past the interval before counting a beat missed, in seconds. */
  heartbeatTimeoutSeconds: number;
  /** How often a peer should sync even without notifications, in minutes. */
  periodicSyncIntervalMinutes: number;
  /** Sync streams one peer may have open at once. */
  maxConcurrentSyncs: number;
  /** Notification subscriptions one peer may have open at once. */
  maxSubscriptionsPerPeer: number;
}

/** The shared state of the hub's services. */
export interface HubContext {
  /** This hub's id. */
  hubId: string;
  /** Time source. */
  clock: Clock;
  /** When the hub started (ms since the epoch). */
  startedAt: number;
  /** The system register. */
  register: SystemRegister;
  /** Connected peers. */
  sessions: PeerSessions;
  /** Syncs served per peer. */
  syncLog: SyncLog;
  /** Encoded entries the sync streams send. */
  entryCache: EntryCache;
  /** Requests per peer. */
  rateLimiter: RateLimiter;
  /** Concurrent syncs per peer. */
  syncSlots: ConcurrencyLimiter;
  /** What peers are told. */
  settings: PeerSettings;
  /** Records the sync streams served (nothing recorded without). */
  syncMetrics?: SyncRecorder | undefined;
  /** Where peers connecting and disconnecting are logged (not logged without). */
  logger?: Logger | undefined;
}
