/**
 * Heartbeat: each beat is recorded against the peer's session; the answer
 * carries the register's version and SYNC when the peer is behind, or
 * RECONNECT when the hub does not know the session (it restarted, or the
 * peer was dropped for missing beats).
 *
 * @module
 */
import type { MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type {
  Heartbeat,
  HeartbeatAcknowledgementSchema,
  HeartbeatMessageSchema,
} from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { AppError } from "../../shared/errors.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { ServiceImplementation } from "../../shared/grpc/mod.ts";
import type { HeartbeatStatusView } from "../peers/sessions.ts";
import type { HubContext } from "./context.ts";
import { actionValue, heartbeatStatusMessage } from "./messages.ts";
import { actionFor, heartbeatMessage, heartbeatStatusRequest, parseRequest } from "./requests.ts";

/** Records one beat and answers it. */
function acknowledge(
  hub: HubContext,
  request: MessageShape<typeof HeartbeatMessageSchema>,
): MessageInitShape<typeof HeartbeatAcknowledgementSchema> {
  const began = performance.now();
  const action = actionFor("take a heartbeat from", request);
  const beat = parseRequest(heartbeatMessage, request, action);
  hub.rateLimiter.take(beat.peerId, action);
  const hubVersion = hub.register.version;
  const outcome = hub.sessions.recordHeartbeat({
    peerId: beat.peerId,
    sessionId: beat.sessionId,
    timestamp: beat.timestamp,
    sequenceNumber: beat.sequenceNumber,
    lastSyncVersion: beat.lastSyncVersion,
    ...(beat.metrics ? { isSyncing: beat.metrics.isSyncing } : {}),
  }, { hubVersion });
  return {
    success: outcome.known,
    timestamp: BigInt(hub.clock.now()),
    centralNodeId: hub.hubId,
    currentSystemRegisterVersion: BigInt(hubVersion),
    message: outcome.message,
    recommendedAction: actionValue(outcome.action),
    serverLatencyMs: BigInt(Math.round(performance.now() - began)),
  };
}

/**
 * A summary of every active peer's heartbeat state (GetHeartbeatStatus with
 * no peer id): totals, and the worst health among them.
 */
function summary(views: HeartbeatStatusView[], hubVersion: number): HeartbeatStatusView {
  const count = (health: HeartbeatStatusView["health"]) =>
    views.filter((view) => view.health === health).length;
  const latencies = views.filter((view) => view.totalReceived > 0);
  return {
    peerId: "",
    sessionId: "",
    lastHeartbeatTime: Math.max(0, ...views.map((view) => view.lastHeartbeatTime)),
    missedHeartbeats: views.reduce((sum, view) => sum + view.missedHeartbeats, 0),
    isHealthy: views.every((view) => view.isHealthy),
    statusMessage: `${views.length} active peers: ${count("healthy")} healthy, ${
      count("warning")
    } warning, ${count("critical")} critical`,
    totalReceived: views.reduce((sum, view) => sum + view.totalReceived, 0),
    totalMissed: views.reduce((sum, view) => sum + view.totalMissed, 0),
    averageLatencyMs: latencies.length
      ? latencies.reduce((sum, view) => sum + view.averageLatencyMs, 0) / latencies.length
      : 0,
    lastKnownSyncVersion: Math.min(hubVersion, ...views.map((view) => view.lastKnownSyncVersion)),
    versionLag: Math.max(0, ...views.map((view) => view.versionLag)),
    health: count("critical") > 0 ? "critical" : count("warning") > 0 ? "warning" : "healthy",
  };
}

/** The Heartbeat implementation over `hub`. */
export function heartbeatService(hub: HubContext): ServiceImplementation<typeof Heartbeat> {
  return {
    sendHeartbeat(request) {
      return acknowledge(hub, request);
    },

    async *monitorHeartbeat(requests) {
      for await (const request of requests) yield acknowledge(hub, request);
    },

    getHeartbeatStatus(request, context) {
      const action = "Cannot report heartbeat status";
      const input = parseRequest(heartbeatStatusRequest, request, action);
      // Charged to the asking connection: `peer_id` names the peer asked about, whose own
      // budget a monitor polling its status must not use up.
      hub.rateLimiter.take(context.peer, action);
      const hubVersion = hub.register.version;
      if (input.peerId === "") {
        return heartbeatStatusMessage(
          summary(hub.sessions.heartbeatStatuses({ hubVersion }), hubVersion),
        );
      }
      const view = hub.sessions.heartbeatStatus(input.peerId, { hubVersion });
      if (!view) {
        throw new AppError(
          "not_found",
          `${action} of peer "${input.peerId}": it has not connected to this hub`,
        );
      }
      if (input.sessionId && view.sessionId !== input.sessionId) {
        throw new AppError(
          "not_found",
          `${action} of peer "${input.peerId}": session ${
            quoteInput(input.sessionId)
          } is not its current session`,
        );
      }
      return heartbeatStatusMessage(view);
    },
  };
}
