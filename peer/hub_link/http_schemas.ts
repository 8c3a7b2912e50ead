/**
 * The peer's hub-link endpoints as zod schemas (for the OpenAPI document and
 * for clients): connection status, hubs, checkpoint, heartbeats, node info.
 * Times are ISO 8601 (UTC), null when they never happened.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { BlueprintEntrySchema } from "../../shared/contracts/system_register.ts";
import { CONNECTION_STATES } from "./status.ts";

const time = z.string().nullable();

/** A failover, as shown. */
export const FailoverSchema = z.object({
  from: z.string(),
  to: z.string().nullable().openapi({
    description: "The hub reached next; null until one answered.",
  }),
  reason: z.string(),
  at: z.string(),
}).openapi("Failover");

/** The link process, as shown. */
export const LinkProcessSchema = z.object({
  state: z.enum(["starting", "running", "restarting", "stopped"]),
  pid: z.number().int().nullable(),
  restarts: z.number().int(),
  lastExit: z.string().nullable(),
  lastExitAt: time,
}).openapi("LinkProcess");

/** `GET /api/connection/status`. */
export const ConnectionStatusSchema = z.object({
  status: z.enum(CONNECTION_STATES),
  enabled: z.boolean().openapi({
    description: "False without HUB_NODES: the peer has no hub link.",
  }),
  since: time.openapi({ description: "When the link entered this status." }),
  connectedCentralNodeId: z.string().nullable(),
  connectedHub: z.string().nullable().openapi({ description: "The current hub's host:port." }),
  sessionId: z.string().nullable(),
  connectedAt: time,
  lastHeartbeat: time.openapi({ description: "When a heartbeat was last acknowledged." }),
  lastSyncVersion: z.number().int().openapi({ description: "The version the replica holds." }),
  hubVersion: z.number().int().nullable().openapi({ description: "The current hub's version." }),
  isolatedSince: time.openapi({
    description: "Set while isolated: no hub answered a whole round.",
  }),
  lastSyncAt: time,
  replicaAgeSeconds: z.number().nullable().openapi({
    description: "How stale the replica may be: seconds since it was last confirmed up to date.",
  }),
  failovers: z.number().int(),
  recentFailovers: z.array(FailoverSchema),
  linkProcess: LinkProcessSchema.nullable(),
}).openapi("ConnectionStatus");

/** One configured hub. */
export const CentralNodeSchema = z.object({
  address: z.string(),
  priority: z.number().int(),
  state: z.enum(["standby", "connecting", "connected", "failed", "rate-limited"]),
  current: z.boolean(),
  centralNodeId: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: time,
  lastContactAt: time,
  consecutiveFailures: z.number().int(),
  probeStreak: z.number().int().openapi({ description: "Fail-back probes answered in a row." }),
}).openapi("CentralNode");

/** `GET /api/central-nodes`. */
export const CentralNodesSchema = z.object({
  enabled: z.boolean(),
  status: z.enum(CONNECTION_STATES),
  hubs: z.array(CentralNodeSchema),
}).openapi("CentralNodes");

/** How one sync went. */
export const SyncResultSchema = z.object({
  kind: z.enum(["full", "incremental"]),
  reason: z.string(),
  fromVersion: z.number().int(),
  toVersion: z.number().int(),
  entries: z.number().int(),
  digest: z.enum(["equal", "unchecked"]).openapi({
    description:
      "`equal`: the replica matched the hub's digest; `unchecked`: the hub could not say.",
  }),
  durationMs: z.number(),
  at: z.string(),
}).openapi("SyncResult");

/** `GET /api/sync/checkpoint`. */
export const CheckpointSchema = z.object({
  currentVersion: z.number().int(),
  totalBlueprints: z.number().int(),
  centralNodeId: z.string().nullable(),
  hubAddress: z.string().nullable(),
  genesisChecksum: z.string().nullable(),
  digest: z.string().nullable(),
  lastSyncAt: time,
  lastSyncKind: z.enum(["full", "incremental"]).nullable(),
  status: z.enum(["UP_TO_DATE", "BEHIND", "SYNCING", "SYNC_FAILED", "EMPTY"]),
  syncing: z.boolean(),
  nextSyncDueAt: time,
  lastError: z.string().nullable(),
  lastErrorAt: time,
  lastResult: SyncResultSchema.nullable(),
  fullSyncs: z.number().int(),
  incrementalSyncs: z.number().int(),
  failedSyncs: z.number().int(),
  rejectedEntries: z.number().int(),
  digestMismatches: z.number().int(),
  withheldEntries: z.number().int(),
}).openapi("SyncCheckpoint");

/** `GET /api/heartbeat/status`. */
export const HeartbeatStatusSchema = z.object({
  enabled: z.boolean(),
  status: z.enum(CONNECTION_STATES),
  sequence: z.number().int(),
  consecutiveMisses: z.number().int(),
  totalSent: z.number().int(),
  totalAcknowledged: z.number().int(),
  totalMissed: z.number().int(),
  lastLatencyMs: z.number().nullable(),
  averageLatencyMs: z.number().nullable(),
  lastHeartbeat: time,
  lastAction: z.string().nullable(),
  intervalSeconds: z.number().nullable(),
  timeoutSeconds: z.number().nullable(),
  maxMissed: z.number().int().nullable(),
}).openapi("HeartbeatStatus");

/** `GET /api/node/info`. */
export const NodeInfoSchema = z.object({
  peerId: z.string(),
  service: z.literal("peer"),
  version: z.string(),
  publicUrl: z.string(),
  startedAt: z.string(),
  uptimeSeconds: z.number().int(),
  advertisementStore: z.string(),
  replicaStore: z.string(),
  hubLink: z.object({
    enabled: z.boolean(),
    status: z.enum(CONNECTION_STATES),
    hubs: z.array(z.string()),
    tls: z.boolean(),
  }),
  systemRegister: z.object({
    currentVersion: z.number().int(),
    totalBlueprints: z.number().int(),
  }),
}).openapi("PeerNodeInfo");

/** A replicated entry: the hub's entry, and whether its document was withheld. */
export const ReplicaEntrySchema = BlueprintEntrySchema.extend({
  documentSize: z.number().int().openapi({ description: "The document's size in bytes." }),
  documentWithheld: z.boolean().openapi({
    description: "The hub withheld the document (larger than this peer takes): `document` is null.",
  }),
}).openapi("ReplicaEntry");

/** `GET /api/system-register/blueprints` on a peer. */
export const ReplicaListSchema = z.object({
  currentVersion: z.number().int().openapi({ description: "The version the replica holds." }),
  blueprints: z.array(ReplicaEntrySchema),
  nextSinceVersion: z.number().int().nullable(),
}).openapi("ReplicaList");

/** `POST /api/sync/trigger` answer. */
export const SyncTriggerSchema = z.object({ result: SyncResultSchema }).openapi("SyncTrigger");
