/**
 * CentralNodeConnection: a session per peer, disconnection, and the hub's
 * status with real figures.
 *
 * @module
 */
import {
  type CentralNodeConnection,
  NodeHealth,
} from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { ServiceImplementation } from "../../shared/grpc/mod.ts";
import type { HubContext } from "./context.ts";
import { connectedPeerMessage, connectInput, disconnectReason } from "./messages.ts";
import {
  actionFor,
  connectRequest,
  disconnectRequest,
  parseRequest,
  statusRequest,
} from "./requests.ts";

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
    async connectToCentralNode(request) {
      const action = actionFor("connect", request);
      const input = parseRequest(connectRequest, request, action);
      hub.rateLimiter.take(input.peerId, action);
      // Catches up with publications of hubs sharing the store first: a peer failing over from
      // another hub must not see this one as behind its replica only because it has not polled yet.
      await hub.register.refresh();
      const session = hub.sessions.connect(connectInput(input));
      const version = hub.register.version;
      hub.logger?.info("Peer {peer} connected (session {session}) at version {peerVersion}", {
        peer: session.peerId,
        session: session.sessionId,
        address: `${session.address}:${session.port}`,
        peerVersion: input.lastKnownVersion,
        hubVersion: version,
      });
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
      const reason = disconnectReason(input.reason);
      const { disconnectedAt } = hub.sessions.disconnect({
        peerId: input.peerId,
        sessionId: input.sessionId,
        reason,
      });
      hub.logger?.info("Peer {peer} disconnected (session {session}): {reason}", {
        peer: input.peerId,
        session: input.sessionId,
        reason,
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
