/**
 * What the link does with what a hub tells it, decided apart from doing it:
 * a heartbeat's answer (its `RecommendedAction`, or `success: false`) and a
 * missed heartbeat. Pure functions: the served session (`served_session.ts`)
 * acts on the advice; the link (`link.ts`) on how a session ends (a failover
 * starts the next round at the hub after the one left).
 *
 * @module
 */
import { DisconnectReason } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import type { AppError } from "../../shared/errors.ts";
import { type Acknowledgement, RecommendedAction } from "./heartbeats.ts";
import type { Session } from "./session.ts";

/** How a session ends, and what comes next. */
export type SessionEnd =
  | {
    kind: "failover";
    reason: string;
    disconnect: DisconnectReason;
    /** Start the next round with the same hub (it may be restarting), not the next one. */
    sameHubFirst?: boolean;
  }
  | { kind: "reconnect"; reason: string }
  | { kind: "switch"; to: Session }
  | { kind: "stop" };

/** What to do after an answered heartbeat. */
export type AckAdvice =
  | { kind: "end"; end: SessionEnd }
  | { kind: "slower" }
  | { kind: "sync" }
  | { kind: "follow"; version: number };

/**
 * The advice of an answered heartbeat: RECONNECT (or `success: false`: the
 * hub does not know the session) opens a new session; FAILOVER leaves the
 * hub; REDUCE_FREQUENCY slows the beats; SYNC syncs; otherwise the replica
 * follows the version the hub announced.
 */
export function adviceOnAcknowledgement(ack: Acknowledgement): AckAdvice {
  const action = ack.recommendedAction;
  if (!ack.success || action === RecommendedAction.RECONNECT) {
    return {
      kind: "end",
      end: { kind: "reconnect", reason: ack.message || "the hub asked to reconnect" },
    };
  }
  if (action === RecommendedAction.FAILOVER) {
    return {
      kind: "end",
      end: {
        kind: "failover",
        reason: `the hub recommended a failover${ack.message ? ` (${ack.message})` : ""}`,
        disconnect: DisconnectReason.FAILOVER,
      },
    };
  }
  if (action === RecommendedAction.REDUCE_FREQUENCY) return { kind: "slower" };
  if (action === RecommendedAction.SYNC) return { kind: "sync" };
  return { kind: "follow", version: Number(ack.currentSystemRegisterVersion) };
}

/**
 * Whether a missed heartbeat ends the session: at once when the hub's
 * connection is gone (the beat failed UNAVAILABLE while the notification
 * stream is down: no deadline needs to confirm it; the next round starts
 * with the same hub, which may be restarting), or after `maxMissed` in a row.
 */
export function adviceOnMiss(
  error: AppError,
  state: { misses: number; maxMissed: number; subscribed: boolean },
): SessionEnd | undefined {
  if (error.code === "unavailable" && !state.subscribed) {
    return {
      kind: "failover",
      reason: `the connection to the hub was lost (${error.message})`,
      disconnect: DisconnectReason.ERROR,
      sameHubFirst: true,
    };
  }
  if (state.misses >= state.maxMissed) {
    return {
      kind: "failover",
      reason: `${state.misses} heartbeats missed in a row (last: ${error.message})`,
      disconnect: DisconnectReason.HEARTBEAT_TIMEOUT,
    };
  }
  return undefined;
}
