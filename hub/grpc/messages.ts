/**
 * The hub's domain values as contract messages (contracts.md §1): entries,
 * notifications and keep-alives, heartbeat states. Times and versions leave
 * as int64 (bigint).
 *
 * @module
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  HeartbeatHealthStatus,
  type HeartbeatStatusSchema,
  RecommendedAction,
} from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import {
  type BlueprintNotificationSchema,
  NotificationType,
  type SystemRegisterEntrySchema,
} from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { PeerConnectionStatus } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { Frame } from "../notifications/broadcaster.ts";
import { blueprintSummary, type NotificationKind } from "../notifications/events.ts";
import type {
  ConnectedPeerView,
  HeartbeatStatusView,
  RecommendedAction as Action,
} from "../peers/sessions.ts";
import { type BlueprintEntry, SYSTEM_REGISTER_ID } from "../system_register/types.ts";

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
  };
}

const ACTIONS: Readonly<Record<Action, RecommendedAction>> = {
  none: RecommendedAction.NONE,
  sync: RecommendedAction.SYNC,
  reconnect: RecommendedAction.RECONNECT,
};

/** A recommended action as its enum value. */
export function actionValue(action: Action): RecommendedAction {
  return ACTIONS[action];
}

const HEALTH: Readonly<Record<HeartbeatStatusView["health"], HeartbeatHealthStatus>> = {
  healthy: HeartbeatHealthStatus.HEALTHY,
  warning: HeartbeatHealthStatus.WARNING,
  critical: HeartbeatHealthStatus.CRITICAL,
  timeout: HeartbeatHealthStatus.TIMEOUT,
  disconnected: HeartbeatHealthStatus.DISCONNECTED,
};

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
    healthStatus: HEALTH[view.health],
  };
}

const PEER_STATUS: Readonly<Record<ConnectedPeerView["status"], PeerConnectionStatus>> = {
  connected: PeerConnectionStatus.CONNECTED,
  heartbeat_timeout: PeerConnectionStatus.HEARTBEAT_TIMEOUT,
  syncing: PeerConnectionStatus.SYNCING,
};

/** A connected peer as a ConnectedPeerInfo. */
export function connectedPeerMessage(view: ConnectedPeerView) {
  return {
    peerId: view.peerId,
    sessionId: view.sessionId,
    connectedAt: BigInt(view.connectedAt),
    lastHeartbeatAt: BigInt(view.lastHeartbeatAt),
    lastSyncVersion: BigInt(view.lastSyncVersion),
    status: PEER_STATUS[view.status],
  };
}
