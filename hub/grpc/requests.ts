/**
 * Validation of every gRPC request the hub takes: zod schemas over the
 * decoded protobuf-es messages. A request that fails is answered
 * INVALID_ARGUMENT with a message naming the field by its proto name:
 * `Cannot connect peer "p 1": peer_id must use only letters, digits, "_" and "-"`.
 * 64-bit integers arrive as bigints and leave as numbers.
 *
 * @module
 */
import { z } from "zod";
import { AppError } from "../../shared/errors.ts";
import { NotificationType } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import type { NotificationKind } from "../notifications/events.ts";

/** Longest blueprint id (contracts.md). */
export const MAX_BLUEPRINT_ID_LENGTH = 255;
/** Most values in one filter list. */
export const MAX_FILTER_VALUES = 1000;
/** Largest metadata (filters or labels), in bytes of its JSON. */
export const MAX_METADATA_BYTES = 4095;
/** The default and largest blueprint size a peer may announce, in bytes (16 MiB). */
export const MAX_BLUEPRINT_SIZE = 16 * 1024 * 1024;

/** A peer id: 1–64 letters, digits, `_` or `-`. */
export const peerIdSchema = z.string()
  .min(1, { message: "is required", abort: true })
  .max(64, "must be at most 64 characters")
  .regex(/^[A-Za-z0-9_-]+$/, 'must use only letters, digits, "_" and "-"');

const optionalPeerId = z.union([z.literal(""), peerIdSchema]);
const sessionId = z.string().max(128, "must be at most 128 characters");
const requiredSessionId = sessionId.min(1, { message: "is required", abort: true });

/** A non-negative int64 that fits a JavaScript number. */
const count64 = z.bigint()
  .min(0n, "must not be negative")
  .max(BigInt(Number.MAX_SAFE_INTEGER), "is too large")
  .transform(Number);

const finiteNonNegative = z.number().finite().min(0, "must not be negative");

const capabilities = z.object({
  supportsPushNotifications: z.boolean(),
  supportsIncrementalSync: z.boolean(),
  maxBlueprintSize: z.number().int().min(0, "must not be negative")
    .max(MAX_BLUEPRINT_SIZE, `must be at most ${MAX_BLUEPRINT_SIZE}`),
  isNatRestricted: z.boolean(),
});

const PORT_MESSAGE = "must be a port (1-65535)";

const peerInfo = z.object({
  address: z.string().max(255, "must be at most 255 characters"),
  // 0 (unset) only without an address: see the refinement below.
  port: z.number().int(PORT_MESSAGE).min(0, PORT_MESSAGE).max(65535, PORT_MESSAGE),
  nodeType: z.string().max(64, "must be at most 64 characters"),
  supportedProtocols: z.array(z.string().max(64, "must be at most 64 characters"))
    .max(32, "must list at most 32 protocols"),
  capabilities: capabilities.optional(),
}).refine((info) => info.port !== 0 || info.address === "", {
  message: `${PORT_MESSAGE} when an address is given`,
  path: ["port"],
});

/** ConnectRequest. */
export const connectRequest = z.object({
  peerId: peerIdSchema,
  peerInfo: peerInfo.optional(),
  lastKnownVersion: count64,
  connectionTime: count64,
});

const DISCONNECT_REASON = "must be a DisconnectReason";

/** DisconnectRequest. */
export const disconnectRequest = z.object({
  peerId: peerIdSchema,
  sessionId: requiredSessionId,
  reason: z.number().int().min(0, DISCONNECT_REASON).max(5, DISCONNECT_REASON),
  disconnectTime: count64,
});

/** StatusRequest. */
export const statusRequest = z.object({
  peerId: optionalPeerId,
  includePeerList: z.boolean(),
});

const metrics = z.object({
  activeConnections: z.number().int().min(0, "must not be negative"),
  cpuUsagePercent: finiteNonNegative,
  memoryUsageMb: finiteNonNegative,
  diskUsagePercent: finiteNonNegative,
  blueprintCount: z.number().int().min(0, "must not be negative"),
  pendingSyncs: z.number().int().min(0, "must not be negative"),
  isSyncing: z.boolean(),
  uptimeSeconds: count64,
});

/** HeartbeatMessage. */
export const heartbeatMessage = z.object({
  peerId: peerIdSchema,
  timestamp: count64,
  sequenceNumber: count64,
  lastSyncVersion: count64,
  sessionId: requiredSessionId,
  nodeType: z.string().max(64, "must be at most 64 characters"),
  metrics: metrics.optional(),
});

/** HeartbeatStatusRequest (an empty peer id asks for every peer). */
export const heartbeatStatusRequest = z.object({
  peerId: optionalPeerId,
  sessionId,
});

/** SyncRequest. */
export const syncRequest = z.object({
  peerId: peerIdSchema,
  lastKnownVersion: count64,
  fullSync: z.boolean(),
  sessionId,
  maxBlueprints: z.number().int().min(0, "must not be negative (0 means no limit)"),
  requestTime: count64,
});

const KINDS: Readonly<Record<number, NotificationKind>> = {
  [NotificationType.BLUEPRINT_PUBLISHED]: "published",
  [NotificationType.BLUEPRINT_UPDATED]: "updated",
  [NotificationType.BLUEPRINT_DEPRECATED]: "deprecated",
};

const filterValues = z.array(
  z.string().min(1, "must not be empty").max(
    MAX_BLUEPRINT_ID_LENGTH,
    `must be at most ${MAX_BLUEPRINT_ID_LENGTH} characters`,
  ),
).max(MAX_FILTER_VALUES, `must list at most ${MAX_FILTER_VALUES} values`);

/** Labels: string pairs of at most {@link MAX_METADATA_BYTES} as JSON. */
export const metadataSchema = z.record(z.string(), z.string()).refine(
  (map) => new TextEncoder().encode(JSON.stringify(map)).byteLength <= MAX_METADATA_BYTES,
  `must be under 4 KiB`,
);

const filters = z.object({
  blueprintIds: filterValues,
  publisherIds: filterValues,
  notificationTypes: z.array(
    z.number().refine((n) => n in KINDS, "must be BLUEPRINT_PUBLISHED, _UPDATED or _DEPRECATED"),
  ).max(3, "must list at most 3 types").transform((types) => types.map((n) => KINDS[n]!)),
  metadataFilters: metadataSchema,
});

/** SubscriptionRequest. */
export const subscriptionRequest = z.object({
  peerId: peerIdSchema,
  sessionId,
  subscribeTime: count64,
  filters: filters.optional(),
});

/** CheckpointRequest (`digest_version` 0: the hub's current version). */
export const checkpointRequest = z.object({
  peerId: peerIdSchema,
  sessionId,
  digestVersion: count64,
});

function snakeCase(name: PropertyKey): string {
  return typeof name === "number"
    ? `[${name}]`
    : String(name).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function fieldName(path: readonly PropertyKey[]): string {
  return path.map(snakeCase).join(".").replaceAll(".[", "[");
}

/**
 * Parses `request` with `schema`; throws invalid_argument
 * `<action>: <field> <what is wrong>` (proto field names) when it does not fit.
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  request: unknown,
  action: string,
): z.output<S> {
  const result = schema.safeParse(request);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 3).map((issue) => {
    const field = fieldName(issue.path);
    const message = issue.message.replace(/^Invalid input: /, "");
    return field ? `${field} ${message}` : message;
  });
  throw new AppError("invalid_argument", `${action}: ${problems.join("; ")}`);
}

/** `Cannot <verb> peer "<id>"`, with the id quoted only when it is printable and short. */
export function actionFor(verb: string, request: { peerId?: unknown }): string {
  const id = typeof request.peerId === "string" ? request.peerId : "";
  const shown = id && id.length <= 64 && !/[\p{Cc}]/u.test(id) ? ` "${id}"` : "";
  return `Cannot ${verb} peer${shown}`;
}
