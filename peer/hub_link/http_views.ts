/**
 * The link's status and replica as the peer's HTTP endpoints show them
 * (`http_schemas.ts`): ISO times, seconds, and sensible values when the
 * peer has no hub link or its process has not reported yet.
 *
 * @module
 */
import type { z } from "@hono/zod-openapi";
import { documentJson } from "../../shared/contracts/documents.ts";
import { SYSTEM_REGISTER_ID } from "../../shared/contracts/system_register.ts";
import type { ReplicaCheckpoint, ReplicaEntry } from "../replica/mod.ts";
import type {
  CentralNodesSchema,
  CheckpointSchema,
  ConnectionStatusSchema,
  HeartbeatStatusSchema,
  ReplicaEntrySchema,
  SyncResultSchema,
} from "./http_schemas.ts";
import type { LinkProcessView } from "./link_process.ts";
import type { HubLinkStatus, SyncResult } from "./status.ts";

/** An ISO time, or null. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

/** A sync result as JSON. */
export function syncResultJson(result: SyncResult): z.output<typeof SyncResultSchema> {
  return { ...result, at: new Date(result.at).toISOString() };
}

/** `GET /api/connection/status`. */
export function connectionStatusJson(
  status: HubLinkStatus | undefined,
  options: {
    checkpoint: ReplicaCheckpoint | undefined;
    process: LinkProcessView | null;
    now: number;
  },
): z.output<typeof ConnectionStatusSchema> {
  const checkpoint = status?.replica.checkpoint ?? options.checkpoint ?? null;
  const session = status?.session ?? null;
  return {
    status: status?.state ?? "Disconnected",
    enabled: status !== undefined || options.process !== null,
    since: isoOrNull(status?.stateSince),
    connectedCentralNodeId: session?.centralNodeId ?? null,
    connectedHub: session?.address ?? null,
    sessionId: session?.sessionId ?? null,
    connectedAt: isoOrNull(session?.connectedAt),
    lastHeartbeat: isoOrNull(status?.heartbeat.lastAcknowledgedAt),
    lastSyncVersion: checkpoint?.version ?? 0,
    hubVersion: session?.hubVersion ?? null,
    isolatedSince: isoOrNull(status?.isolatedSince),
    lastSyncAt: isoOrNull(checkpoint?.lastSyncAt),
    replicaAgeSeconds: checkpoint
      ? Math.max(0, Math.round((options.now - checkpoint.lastSyncAt) / 100) / 10)
      : null,
    failovers: status?.failovers ?? 0,
    recentFailovers: (status?.recentFailovers ?? []).map((f) => ({
      ...f,
      at: new Date(f.at).toISOString(),
    })),
    linkProcess: options.process
      ? { ...options.process, lastExitAt: isoOrNull(options.process.lastExitAt) }
      : null,
  };
}

/** The hubs as the link reports them, or the configured ones, untried, before it does. */
export function hubViews(
  status: HubLinkStatus | undefined,
  configured: readonly { address: string; priority: number }[],
): HubLinkStatus["hubs"] {
  return status?.hubs ?? configured.map((hub) => ({
    ...hub,
    state: "standby" as const,
    centralNodeId: null,
    lastError: null,
    lastErrorAt: null,
    lastContactAt: null,
    consecutiveFailures: 0,
    probeStreak: 0,
  }));
}

/** `GET /api/central-nodes`. */
export function centralNodesJson(
  status: HubLinkStatus | undefined,
  configured: readonly { address: string; priority: number }[],
): z.output<typeof CentralNodesSchema> {
  const current = status?.session?.address;
  const hubs = hubViews(status, configured);
  return {
    enabled: configured.length > 0,
    status: status?.state ?? "Disconnected",
    hubs: hubs.map((hub) => ({
      ...hub,
      current: hub.address === current,
      lastErrorAt: isoOrNull(hub.lastErrorAt),
      lastContactAt: isoOrNull(hub.lastContactAt),
    })),
  };
}

/** `GET /api/sync/checkpoint`. */
export function checkpointJson(
  status: HubLinkStatus | undefined,
  stored: ReplicaCheckpoint | undefined,
): z.output<typeof CheckpointSchema> {
  const replica = status?.replica;
  const checkpoint = replica?.checkpoint ?? stored;
  return {
    currentVersion: checkpoint?.version ?? 0,
    totalBlueprints: checkpoint?.blueprints ?? 0,
    centralNodeId: checkpoint?.hubId ?? null,
    hubAddress: checkpoint?.hubAddress ?? null,
    genesisChecksum: checkpoint?.genesisChecksum || null,
    digest: checkpoint?.digest ?? null,
    lastSyncAt: isoOrNull(checkpoint?.lastSyncAt),
    lastSyncKind: checkpoint?.lastSyncKind ?? null,
    status: replica?.status ?? (checkpoint ? "UP_TO_DATE" : "EMPTY"),
    syncing: replica?.syncing ?? false,
    nextSyncDueAt: isoOrNull(replica?.nextSyncDueAt),
    lastError: replica?.lastError ?? null,
    lastErrorAt: isoOrNull(replica?.lastErrorAt),
    lastResult: replica?.lastResult ? syncResultJson(replica.lastResult) : null,
    fullSyncs: replica?.fullSyncs ?? 0,
    incrementalSyncs: replica?.incrementalSyncs ?? 0,
    failedSyncs: replica?.failedSyncs ?? 0,
    rejectedEntries: replica?.rejectedEntries ?? 0,
    digestMismatches: replica?.digestMismatches ?? 0,
    withheldEntries: replica?.withheldEntries ?? 0,
  };
}

/** `GET /api/heartbeat/status`. */
export function heartbeatJson(
  status: HubLinkStatus | undefined,
  enabled: boolean,
): z.output<typeof HeartbeatStatusSchema> {
  const beat = status?.heartbeat;
  return {
    enabled,
    status: status?.state ?? "Disconnected",
    sequence: beat?.sequence ?? 0,
    consecutiveMisses: beat?.consecutiveMisses ?? 0,
    totalSent: beat?.totalSent ?? 0,
    totalAcknowledged: beat?.totalAcknowledged ?? 0,
    totalMissed: beat?.totalMissed ?? 0,
    lastLatencyMs: beat?.lastLatencyMs ?? null,
    averageLatencyMs: beat?.averageLatencyMs ?? null,
    lastHeartbeat: isoOrNull(beat?.lastAcknowledgedAt),
    lastAction: beat?.lastAction ?? null,
    intervalSeconds: beat ? beat.intervalMs / 1000 : null,
    timeoutSeconds: beat ? beat.timeoutMs / 1000 : null,
    maxMissed: beat?.maxMissed ?? null,
  };
}

/** A replicated entry as JSON, its document parsed (text when it is not JSON, null when withheld). */
export function replicaEntryJson(entry: ReplicaEntry): z.output<typeof ReplicaEntrySchema> {
  return {
    blueprintId: entry.blueprintId,
    registerId: SYSTEM_REGISTER_ID,
    version: entry.version,
    publishedAt: new Date(entry.publishedAt).toISOString(),
    publishedBy: entry.publishedBy,
    isActive: true,
    publicationTransactionId: entry.publicationTransactionId,
    checksum: entry.checksum,
    metadata: entry.metadata,
    document: entry.document === undefined ? null : documentJson(entry.document),
    documentSize: entry.documentSize,
    documentWithheld: entry.document === undefined,
  };
}
