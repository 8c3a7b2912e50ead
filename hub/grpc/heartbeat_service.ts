/**
 * Heartbeat: each beat is recorded against the peer's session; the answer
 * carries the register's version and SYNC when the peer is behind, or
 * RECONNECT when the hub does not know the session (it restarted, or the
 * peer was dropped for missing beats).
 *
 * @module
 */
import type { MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import {
  type Heartbeat,
  type HeartbeatAcknowledgementSchema,
  type HeartbeatMessageSchema,
  RecommendedAction,
} from "../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { AppError } from "../../shared/errors.ts";
import { quoteInput } from "../../shared/quote.ts";
import type { ServiceImplementation } from "../../shared/grpc/mod.ts";
import { statusSummary } from "../peers/status_views.ts";
import type { HubContext } from "./context.ts";
import { enumValue, heartbeatInput, heartbeatStatusMessage } from "./messages.ts";
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
  const outcome = hub.sessions.recordHeartbeat(heartbeatInput(beat), { hubVersion });
  return {
    success: outcome.known,
    timestamp: BigInt(hub.clock.now()),
    centralNodeId: hub.hubId,
    currentSystemRegisterVersion: BigInt(hubVersion),
    message: outcome.message,
    recommendedAction: enumValue(RecommendedAction, outcome.action),
    serverLatencyMs: BigInt(Math.round(performance.now() - began)),
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
          statusSummary(hub.sessions.heartbeatStatuses({ hubVersion }), { hubVersion }),
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
