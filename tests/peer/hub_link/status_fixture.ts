/**
 * A hub link's status made up for tests that only read one (metrics, the admin page, the
 * pipes to the link process).
 *
 * @module
 */
import type { HubLinkStatus } from "../../../peer/hub_link/status.ts";

/**
 * A status reporting `state`, with the replica at version 4 and counters of its own
 * (failovers 3, misses 2, notifications 5, syncs 1 full and 6 incremental,
 * 2 rejected entries, 1 digest mismatch); connected to a hub at
 * `hubVersion` when it is given.
 */
export function statusOf(state: HubLinkStatus["state"], hubVersion?: number): HubLinkStatus {
  const now = Date.now();
  return {
    state,
    stateSince: now,
    isolatedSince: state === "Isolated" ? now : null,
    session: hubVersion === undefined ? null : {
      address: "127.0.0.1:50051",
      centralNodeId: "n0",
      sessionId: "s-1",
      connectedAt: now,
      hubVersion,
      genesisChecksum: "",
    },
    hubs: [],
    heartbeat: {
      sequence: 9,
      consecutiveMisses: 2,
      totalSent: 9,
      totalAcknowledged: 7,
      totalMissed: 2,
      lastLatencyMs: 3,
      averageLatencyMs: 2.5,
      lastAcknowledgedAt: now,
      lastAction: "NONE",
      intervalMs: 500,
      timeoutMs: 1000,
      maxMissed: 2,
    },
    subscription: {
      state: "down",
      since: now,
      notifications: 5,
      lastNotificationAt: now,
      lastError: null,
    },
    replica: {
      checkpoint: {
        version: 4,
        blueprints: 3,
        digest: "sha256:abc",
        hubId: "n0",
        hubAddress: "127.0.0.1:50051",
        genesisChecksum: "",
        lastSyncAt: now,
        lastSyncKind: "full",
      },
      status: "UP_TO_DATE",
      syncing: false,
      lastResult: null,
      lastError: null,
      lastErrorAt: null,
      nextSyncDueAt: null,
      fullSyncs: 1,
      incrementalSyncs: 6,
      failedSyncs: 0,
      rejectedEntries: 2,
      digestMismatches: 1,
      withheldEntries: 0,
    },
    failovers: 3,
    recentFailovers: [],
    startedAt: now,
  };
}
