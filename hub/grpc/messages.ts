/**
 * The one mapping between the contract's messages (contracts.md §1) and the
 * hub's values: entries, notifications and keep-alives, heartbeat states and
 * connected peers as messages; connect requests, heartbeats and disconnect
 * reasons (validated by `requests.ts`) as the peer sessions take them. Times
 * and versions leave as int64 (bigint). An enum value of the contract is
 * the hub's name for it in lower case (`HEARTBEAT_TIMEOUT`:
 * `"heartbeat_timeout"`), so {@link enumValue} and {@link enumName} map
 * every such enum, both ways.
 *
 * @module
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { z } from "zod";
import {
  HeartbeatHealthStatus,
  type HeartbeatStatusSchema,
} from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import {
  type BlueprintNotificationSchema,
  NotificationType,
  type SystemRegisterEntrySchema,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import {
  DisconnectReason,
  PeerConnectionStatus,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { Frame } from "../notifications/broadcaster.ts";
import { blueprintSummary, type NotificationKind } from "../notifications/events.ts";
import type { HeartbeatInput } from "../peers/heartbeat_scoring.ts";
import type { ConnectInput, DisconnectReason as Reason } from "../peers/session.ts";
import type { ConnectedPeerView, HeartbeatStatusView } from "../peers/status_views.ts";
import { type BlueprintEntry, SYSTEM_REGISTER_ID } from "../system_register/mod.ts";
import { type connectRequest, type heartbeatMessage, MAX_BLUEPRINT_SIZE } from "./requests.ts";

/** A generated enum: names to numbers, and numbers back to names. */
type ProtoEnum = Record<string, string | number>;

/** The contract's value of the enum member the hub calls `name` (`"sync"`: `SYNC`). */
export function enumValue<E extends ProtoEnum>(
  values: E,
  name: Lowercase<keyof E & string>,
): number {
  return values[name.toUpperCase()] as number;
}

/** The hub's name of the contract's enum `value` (`SYNC`: `"sync"`), if the enum has it. */
export function enumName<E extends ProtoEnum>(
  values: E,
  value: number,
): Lowercase<keyof E & string> | undefined {
  const name = values[value];
  return typeof name === "string" ? name.toLowerCase() as Lowercase<keyof E & string> : undefined;
}

/** A validated ConnectRequest as the peer sessions take it (defaults for what it leaves out). */
export function connectInput(request: z.output<typeof connectRequest>): ConnectInput {
  const info = request.peerInfo;
  return {
    peerId: request.peerId,
    address: info?.address ?? "",
    port: info?.port ?? 0,
    nodeType: info?.nodeType || "Peer",
    capabilities: {
      supportsPushNotifications: info?.capabilities?.supportsPushNotifications ?? false,
      supportsIncrementalSync: info?.capabilities?.supportsIncrementalSync ?? false,
      maxBlueprintSize: info?.capabilities?.maxBlueprintSize || MAX_BLUEPRINT_SIZE,
      isNatRestricted: info?.capabilities?.isNatRestricted ?? false,
    },
    lastKnownVersion: request.lastKnownVersion,
    connectionTime: request.connectionTime,
  };
}

/** A validated HeartbeatMessage as the peer sessions take it. */
export function heartbeatInput(beat: z.output<typeof heartbeatMessage>): HeartbeatInput {
  return {
    peerId: beat.peerId,
    sessionId: beat.sessionId,
    timestamp: beat.timestamp,
    sequenceNumber: beat.sequenceNumber,
    lastSyncVersion: beat.lastSyncVersion,
    ...(beat.metrics ? { isSyncing: beat.metrics.isSyncing } : {}),
  };
}

/** A DisconnectRequest's reason as the hub names it (`"unknown"` for a value it does not know). */
export function disconnectReason(value: number): Reason {
  return enumName(DisconnectReason, value) ?? "unknown";
}

/** Options of {@link entryMessage}. */
export interface EntryMessageOptions {
  /** Leave the document out: `document_withheld` true and `document_size` its size. */
  withheld?: boolean;
  /** The active set's digest, on a stream's last entry. */
  activeSetDigest?: string;
}

/** A stored entry as a SystemRegisterEntry; see {@link EntryMessageOptions}. */
export function entryMessage(
  entry: BlueprintEntry,
  options: EntryMessageOptions = {},
): MessageInitShape<typeof SystemRegisterEntrySchema> {
  const withheld = options.withheld === true;
  return {
    blueprintId: entry.blueprintId,
    registerId: SYSTEM_REGISTER_ID,
    blueprintDocument: withheld ? new Uint8Array(0) : entry.document,
    publishedAt: BigInt(entry.publishedAt),
    publishedBy: entry.publishedBy,
    version: BigInt(entry.version),
    isActive: entry.isActive,
    publicationTransactionId: entry.publicationTransactionId,
    checksum: entry.checksum,
    metadata: entry.metadata,
    documentWithheld: withheld,
    documentSize: withheld ? BigInt(entry.document.byteLength) : 0n,
    activeSetDigest: options.activeSetDigest ?? "",
  };
}

const NOTIFICATION_TYPES: Readonly<Record<NotificationKind, NotificationType>> = {
  published: NotificationType.BLUEPRINT_PUBLISHED,
  updated: NotificationType.BLUEPRINT_UPDATED,
  deprecated: NotificationType.BLUEPRINT_DEPRECATED,
};

/**
 * A subscription frame as a BlueprintNotification. A keep-alive has type
 * UNKNOWN, no blueprint, sequence number 0, the current version in
 * `version` and the hub's time in `published_at`.
 */
export function notificationMessage(
  frame: Frame,
  now: number,
): MessageInitShape<typeof BlueprintNotificationSchema> {
  if (frame.kind === "keepalive") {
    return {
      type: NotificationType.UNKNOWN,
      version: BigInt(frame.version),
      publishedAt: BigInt(now),
      sequenceNumber: 0n,
    };
  }
  const { entry, kind } = frame.event;
  return {
    blueprintId: entry.blueprintId,
    version: BigInt(entry.version),
    publishedAt: BigInt(entry.publishedAt),
    publishedBy: entry.publishedBy,
    blueprintSummary: blueprintSummary(entry),
    type: NOTIFICATION_TYPES[kind],
    checksum: entry.checksum,
    sequenceNumber: BigInt(frame.sequence),
    traceparent: frame.event.traceparent ?? "",
  };
}

/** A peer's heartbeat state as a HeartbeatStatus. */
export function heartbeatStatusMessage(
  view: HeartbeatStatusView,
): MessageInitShape<typeof HeartbeatStatusSchema> {
  return {
    peerId: view.peerId,
    sessionId: view.sessionId,
    lastHeartbeatTime: BigInt(view.lastHeartbeatTime),
    missedHeartbeats: view.missedHeartbeats,
    isHealthy: view.isHealthy,
    statusMessage: view.statusMessage,
    totalHeartbeatsReceived: BigInt(view.totalReceived),
    totalHeartbeatsMissed: BigInt(view.totalMissed),
    averageLatencyMs: view.averageLatencyMs,
    lastKnownSyncVersion: BigInt(view.lastKnownSyncVersion),
    versionLag: BigInt(view.versionLag),
    healthStatus: enumValue(HeartbeatHealthStatus, view.health),
  };
}

/** A connected peer as a ConnectedPeerInfo. */
export function connectedPeerMessage(view: ConnectedPeerView) {
  return {
    peerId: view.peerId,
    sessionId: view.sessionId,
    connectedAt: BigInt(view.connectedAt),
    lastHeartbeatAt: BigInt(view.lastHeartbeatAt),
    lastSyncVersion: BigInt(view.lastSyncVersion),
    status: enumValue(PeerConnectionStatus, view.status),
  };
}
