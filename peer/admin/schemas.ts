/**
 * The admin page's JSON shapes (`/api/admin/...`): every register with who
 * advertises it and its leases, and the page's snapshot of the whole node
 * (registers, peers, hub link, replica, reconciliation), which the events
 * stream pushes as it changes.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { PeersResponseSchema } from "../../shared/contracts/gossip.ts";
import { SyncStateResponseSchema } from "../../shared/contracts/advertisements.ts";

const isoTime = z.string().nullable();

/** One peer advertising a register, as this node holds it. */
export const RegisterAdvertiserSchema = z.object({
  peerId: z.string(),
  syncState: z.string().openapi({ description: "The peer's replication state of the register." }),
  latestVersion: z.number().int(),
  latestDocketVersion: z.number().int(),
  refreshedAt: isoTime.openapi({
    description: "When the peer issued the record that last refreshed it (null when not held).",
  }),
  leaseExpiresAt: isoTime.openapi({
    description: "When its lease here ends at the latest: the record's issue time plus the lease.",
  }),
}).openapi("RegisterAdvertiser");

/** One register as the admin page lists it. */
export const AdminRegisterSchema = z.object({
  registerId: z.string(),
  isPublic: z.boolean(),
  isLocal: z.boolean().openapi({ description: "Whether this node advertises it." }),
  peerCount: z.number().int().openapi({ description: "Other peers advertising it." }),
  fullReplicaPeerCount: z.number().int().openapi({
    description: "Other peers holding a full replica (FullyReplicated).",
  }),
  latestVersion: z.number().int(),
  latestDocketVersion: z.number().int(),
  lastRefreshAt: isoTime.openapi({
    description: "The latest refresh by another peer (null for a register only this node has).",
  }),
  leaseExpiresAt: isoTime.openapi({
    description: "When the last of the other peers' leases ends, unless refreshed.",
  }),
  advertisedBy: z.array(RegisterAdvertiserSchema),
}).openapi("AdminRegister");

/** `GET /api/admin/registers`. */
export const AdminRegistersSchema = z.object({
  generatedAt: z.string(),
  ttlSeconds: z.number(),
  leaseSeconds: z.number(),
  localCount: z.number().int(),
  publicLocalCount: z.number().int(),
  privateLocalCount: z.number().int().openapi({
    description: "Local registers that are not public: counted, never shown to other peers.",
  }),
  remoteCount: z.number().int(),
  registers: z.array(AdminRegisterSchema),
}).openapi("AdminRegisters");

/** This node, as the page's header shows it. */
export const AdminNodeSchema = z.object({
  peerId: z.string().nullable(),
  publicUrl: z.string().nullable(),
  version: z.string(),
  tokenRequired: z.boolean().openapi({
    description: "Whether API_TOKEN is set: changes (trigger sync) need it as a bearer token.",
  }),
  hubLinkEnabled: z.boolean(),
  gossipEnabled: z.boolean(),
}).openapi("AdminNode");

/** One configured hub. */
const AdminHubSchema = z.object({
  address: z.string(),
  priority: z.number().int(),
  state: z.string(),
  current: z.boolean(),
  centralNodeId: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: isoTime,
  lastContactAt: isoTime,
  consecutiveFailures: z.number().int(),
});

/** The hub link. */
export const AdminHubLinkSchema = z.object({
  enabled: z.boolean(),
  state: z.enum(["Disconnected", "Connecting", "Connected", "HeartbeatTimeout", "Isolated"]),
  since: isoTime,
  isolatedSince: isoTime,
  session: z.object({
    address: z.string(),
    centralNodeId: z.string(),
    sessionId: z.string(),
    connectedAt: z.string(),
    hubVersion: z.number(),
  }).nullable(),
  hubs: z.array(AdminHubSchema),
  heartbeat: z.object({
    lastLatencyMs: z.number().nullable(),
    averageLatencyMs: z.number().nullable(),
    lastAcknowledgedAt: isoTime,
    consecutiveMisses: z.number().int(),
    totalSent: z.number().int(),
    totalMissed: z.number().int(),
    intervalSeconds: z.number(),
  }).nullable(),
  failovers: z.number().int(),
  recentFailovers: z.array(z.object({
    from: z.string(),
    to: z.string().nullable(),
    reason: z.string(),
    at: z.string(),
  })),
  linkProcess: z.object({
    state: z.string(),
    restarts: z.number().int(),
    lastExit: z.string().nullable(),
    lastExitAt: isoTime,
  }).nullable(),
}).openapi("AdminHubLink");

/** The replica of the system register. */
export const AdminReplicaSchema = z.object({
  status: z.string(),
  syncing: z.boolean(),
  checkpoint: z.object({
    version: z.number().int(),
    blueprints: z.number().int(),
    hubId: z.string(),
    hubAddress: z.string(),
    digest: z.string(),
    lastSyncAt: z.string(),
    lastSyncKind: z.string(),
  }).nullable(),
  lastResult: z.object({
    kind: z.string(),
    reason: z.string(),
    fromVersion: z.number().int(),
    toVersion: z.number().int(),
    entries: z.number().int(),
    at: z.string(),
  }).nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: isoTime,
  fullSyncs: z.number().int(),
  incrementalSyncs: z.number().int(),
  failedSyncs: z.number().int(),
}).openapi("AdminReplica");

/** `GET /api/admin/snapshot`, and each `snapshot` event of `GET /api/admin/events`. */
export const AdminSnapshotSchema = z.object({
  generatedAt: z.string(),
  node: AdminNodeSchema,
  registers: AdminRegistersSchema,
  peers: PeersResponseSchema.nullable().openapi({
    description: "As GET /api/peers; null without gossip.",
  }),
  hubLink: AdminHubLinkSchema,
  replica: AdminReplicaSchema,
  reconciliation: SyncStateResponseSchema.openapi({
    description: "As GET /api/registers/sync-state.",
  }),
}).openapi("AdminSnapshot");

/** A register as the admin page lists it. */
export type AdminRegister = z.output<typeof AdminRegisterSchema>;
/** One peer advertising a register. */
export type RegisterAdvertiser = z.output<typeof RegisterAdvertiserSchema>;
/** `GET /api/admin/registers`. */
export type AdminRegisters = z.output<typeof AdminRegistersSchema>;
/** The node. */
export type AdminNode = z.output<typeof AdminNodeSchema>;
/** The hub link. */
export type AdminHubLink = z.output<typeof AdminHubLinkSchema>;
/** The replica. */
export type AdminReplica = z.output<typeof AdminReplicaSchema>;
/** The whole snapshot. */
export type AdminSnapshot = z.output<typeof AdminSnapshotSchema>;
