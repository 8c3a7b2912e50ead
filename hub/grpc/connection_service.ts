/**
 * CentralNodeConnection: a session per peer, disconnection, and the hub's
 * status with real figures.
 *
 * @module
 */
import {
  type CentralNodeConnection,
  DisconnectReason,
  NodeHealth,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { ServiceImplementation } from "../../shared/grpc/mod.ts";
import type { DisconnectReason as Reason } from "../peers/sessions.ts";
import type { HubContext } from "./context.ts";
import { connectedPeerMessage } from "./messages.ts";
import {
  actionFor,
  connectRequest,
  disconnectRequest,
  MAX_BLUEPRINT_SIZE,
  parseRequest,
  statusRequest,
} from "./requests.ts";

const REASONS: Readonly<Record<number, Reason>> = {
  [DisconnectReason.UNKNOWN]: "unknown",
  [DisconnectReason.SHUTDOWN]: "shutdown",
  [DisconnectReason.HEARTBEAT_TIMEOUT]: "heartbeat_timeout",
  [DisconnectReason.FAILOVER]: "failover",
  [DisconnectReason.ERROR]: "error",
  [DisconnectReason.CLIENT_REQUEST]: "client_request",
};

/** What a connecting peer is told of its version against the hub's. */
function connectMessage(version: number, peerVersion: number): string {
  const base = `Connected; the system register is at version ${version}`;
  if (peerVersion < version) return `${base}, ${version - peerVersion} ahead of yours: sync`;
  if (peerVersion > version) {
    return `${base}, behind your ${peerVersion} (another network, or a register reset): reset with a full sync`;
  }
  return base;
}

/** The CentralNodeConnection implementation over `hub`. */
export function connectionService(
  hub: HubContext,
): ServiceImplementation<typeof CentralNodeConnection> {
  return {
    connectToCentralNode(request) {
      const action = actionFor("connect", request);
      const input = parseRequest(connectRequest, request, action);
      hub.rateLimiter.take(input.peerId, action);
      const info = input.peerInfo;
      const session = hub.sessions.connect({
        peerId: input.peerId,
        address: info?.address ?? "",
        port: info?.port ?? 0,
        nodeType: info?.nodeType || "Peer",
        capabilities: {
          supportsPushNotifications: info?.capabilities?.supportsPushNotifications ?? false,
          supportsIncrementalSync: info?.capabilities?.supportsIncrementalSync ?? false,
          maxBlueprintSize: info?.capabilities?.maxBlueprintSize || MAX_BLUEPRINT_SIZE,
          isNatRestricted: info?.capabilities?.isNatRestricted ?? false,
        },
        lastKnownVersion: input.lastKnownVersion,
        connectionTime: input.connectionTime,
      });
      const version = hub.register.version;
      const { settings } = hub;
      return {
        success: true,
        message: connectMessage(version, input.lastKnownVersion),
        sessionId: session.sessionId,
        centralNodeId: hub.hubId,
        currentSystemRegisterVersion: BigInt(version),
        connectedAt: BigInt(session.connectedAt),
        heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
        config: {
          heartbeatTimeoutSeconds: settings.heartbeatTimeoutSeconds,
          periodicSyncIntervalMinutes: settings.periodicSyncIntervalMinutes,
          pushNotificationsEnabled: true,
          maxConcurrentSyncs: settings.maxConcurrentSyncs,
        },
        genesisChecksum: hub.register.genesisChecksum,
      };
    },

    disconnectFromCentralNode(request) {
      const action = actionFor("disconnect", request);
      const input = parseRequest(disconnectRequest, request, action);
      hub.rateLimiter.take(input.peerId, action);
      const { disconnectedAt } = hub.sessions.disconnect({
        peerId: input.peerId,
        sessionId: input.sessionId,
        reason: REASONS[input.reason] ?? "unknown",
      });
      return {
        success: true,
        message: `Session ${input.sessionId} of peer "${input.peerId}" ended`,
        disconnectedAt: BigInt(disconnectedAt),
      };
    },

    async getCentralNodeStatus(request, context) {
      const input = parseRequest(statusRequest, request, "Cannot report the hub's status");
      hub.rateLimiter.take(input.peerId || context.peer, "Cannot report the hub's status");
      const head = await hub.register.store.head();
      const now = hub.clock.now();
      return {
        nodeId: hub.hubId,
        health: hub.register.integrity.ok ? NodeHealth.HEALTHY : NodeHealth.UNHEALTHY,
        currentSystemRegisterVersion: BigInt(head.version),
        totalBlueprints: head.activeCount,
        activePeerCount: hub.sessions.activeCount(),
        lastBlueprintPublishedAt: BigInt(head.lastPublishedAt ?? 0),
        uptimeSeconds: BigInt(Math.floor((now - hub.startedAt) / 1000)),
        connectedPeers: input.includePeerList
          ? hub.sessions.connectedPeers().map(connectedPeerMessage)
          : [],
      };
    },
  };
}
