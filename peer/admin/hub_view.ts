/**
 * The hub link and the replica as the admin page shows them, from what the
 * link reports (`hub_link/status.ts`): times as ISO text, and sensible
 * values while the peer has no hub link or its process has not reported
 * yet (the replica's stored checkpoint is read then).
 *
 * @module
 */
import { errorMessage } from "../../shared/errors.ts";
import { type HubLinkRoutesOptions, hubViews } from "../hub_link/mod.ts";
import type { ReplicaCheckpoint } from "../replica/mod.ts";
import type { AdminHubLink, AdminReplica } from "./schemas.ts";

/** An ISO time, or null. */
function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** The hub link: its state, the current hub, every configured hub, heartbeats, failovers. */
export function adminHubLink(options: HubLinkRoutesOptions | undefined): AdminHubLink {
  const status = options?.link?.status();
  const configured = options?.node.hubs ?? [];
  const process = options?.link?.process?.() ?? null;
  const current = status?.session?.address;
  return {
    enabled: options?.link !== undefined,
    state: status?.state ?? "Disconnected",
    since: iso(status?.stateSince),
    isolatedSince: iso(status?.isolatedSince),
    session: status?.session
      ? {
        address: status.session.address,
        centralNodeId: status.session.centralNodeId,
        sessionId: status.session.sessionId,
        connectedAt: new Date(status.session.connectedAt).toISOString(),
        hubVersion: status.session.hubVersion,
      }
      : null,
    hubs: hubViews(status, configured).map((hub) => ({
      address: hub.address,
      priority: hub.priority,
      state: hub.state,
      current: hub.address === current,
      centralNodeId: hub.centralNodeId,
      lastError: hub.lastError,
      lastErrorAt: iso(hub.lastErrorAt),
      lastContactAt: iso(hub.lastContactAt),
      consecutiveFailures: hub.consecutiveFailures,
    })),
    heartbeat: status
      ? {
        lastLatencyMs: status.heartbeat.lastLatencyMs,
        averageLatencyMs: status.heartbeat.averageLatencyMs,
        lastAcknowledgedAt: iso(status.heartbeat.lastAcknowledgedAt),
        consecutiveMisses: status.heartbeat.consecutiveMisses,
        totalSent: status.heartbeat.totalSent,
        totalMissed: status.heartbeat.totalMissed,
        intervalSeconds: status.heartbeat.intervalMs / 1000,
      }
      : null,
    failovers: status?.failovers ?? 0,
    recentFailovers: (status?.recentFailovers ?? []).map((failover) => ({
      ...failover,
      at: new Date(failover.at).toISOString(),
    })),
    linkProcess: process
      ? {
        state: process.state,
        restarts: process.restarts,
        lastExit: process.lastExit,
        lastExitAt: iso(process.lastExitAt),
      }
      : null,
  };
}

/** The replica: its checkpoint (reported, else stored), status and syncs. */
export async function adminReplica(
  options: HubLinkRoutesOptions | undefined,
): Promise<AdminReplica> {
  const replica = options?.link?.status()?.replica;
  let checkpoint: ReplicaCheckpoint | null = replica?.checkpoint ?? null;
  let readError: string | null = null;
  if (!replica && options) {
    try {
      checkpoint = (await options.replica.checkpoint()) ?? null;
    } catch (error) {
      readError = `Cannot read the replica's checkpoint: ${errorMessage(error)}`;
    }
  }
  return {
    status: replica?.status ?? (checkpoint ? "UP_TO_DATE" : "EMPTY"),
    syncing: replica?.syncing ?? false,
    checkpoint: checkpoint
      ? {
        version: checkpoint.version,
        blueprints: checkpoint.blueprints,
        hubId: checkpoint.hubId,
        hubAddress: checkpoint.hubAddress,
        digest: checkpoint.digest,
        lastSyncAt: new Date(checkpoint.lastSyncAt).toISOString(),
        lastSyncKind: checkpoint.lastSyncKind,
      }
      : null,
    lastResult: replica?.lastResult
      ? {
        kind: replica.lastResult.kind,
        reason: replica.lastResult.reason,
        fromVersion: replica.lastResult.fromVersion,
        toVersion: replica.lastResult.toVersion,
        entries: replica.lastResult.entries,
        at: new Date(replica.lastResult.at).toISOString(),
      }
      : null,
    lastError: replica?.lastError ?? readError,
    lastErrorAt: iso(replica?.lastErrorAt),
    fullSyncs: replica?.fullSyncs ?? 0,
    incrementalSyncs: replica?.incrementalSyncs ?? 0,
    failedSyncs: replica?.failedSyncs ?? 0,
  };
}
