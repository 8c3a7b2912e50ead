/**
 * What a peer's session is, in the contract's terms where it has them: a
 * disconnect reason is the name of the contract's `DisconnectReason` value
 * in lower case, capabilities are the contract's `PeerCapabilities`, and
 * versions and times are numbers (ms since the epoch). `hub/grpc/messages.ts`
 * is the one mapping between these and the contract's messages.
 *
 * @module
 */
import type {
  DisconnectReason as ProtoDisconnectReason,
  PeerCapabilities as ProtoPeerCapabilities,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";

/** Why a session ended (a `DisconnectReason` of the contract, by its name). */
export type DisconnectReason = Lowercase<keyof typeof ProtoDisconnectReason>;

/** What a peer can do (the contract's `PeerCapabilities`). */
export type PeerCapabilities = Omit<ProtoPeerCapabilities, "$typeName" | "$unknown">;

/** A peer's current session. */
export interface Session {
  /** The peer's id. */
  peerId: string;
  /** The session's id (a random UUID). */
  sessionId: string;
  /** The peer's address. */
  address: string;
  /** The peer's port. */
  port: number;
  /** The peer's node type. */
  nodeType: string;
  /** What the peer can do. */
  capabilities: PeerCapabilities;
  /** The peer's clock at connect (ms since the epoch). */
  connectionTime: number;
  /** When the hub accepted the connection (hub clock). */
  connectedAt: number;
  /** The last heartbeat of this session, counted or not (hub clock; `connectedAt` at first). */
  lastHeartbeatAt: number;
  /** The system-register version the peer last reported or synced to. */
  lastSyncVersion: number;
  /** Whether its last counted beat said it was syncing. */
  isSyncing: boolean;
}

/** A peer's connect request: what it says of itself, and the version it holds (0 at first). */
export type ConnectInput =
  & Pick<Session, "peerId" | "address" | "port" | "nodeType" | "capabilities" | "connectionTime">
  & { lastKnownVersion: number };

/** A session that ended: dropped by a timeout or disconnected. */
export interface DroppedPeer {
  /** The peer's id. */
  peerId: string;
  /** The session that ended. */
  sessionId: string;
  /** Its last heartbeat. */
  lastHeartbeatAt: number;
  /** Heartbeats missed when it ended. */
  missedHeartbeats: number;
  /** When it ended (hub clock). */
  droppedAt: number;
  /** Why. */
  reason: DisconnectReason;
}
