/**
 * The metrics of the hub's peer sessions, observed from the sessions at
 * each export.
 *
 * @module
 */
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import type { PeerSessions } from "./sessions.ts";

/**
 * Defines on `metrics` the gauge `sorcha_hub_connected_peers{heartbeat_state}`:
 * the live sessions of `sessions` by heartbeat health (`healthy`, `warning`:
 * one beat missed, `critical`: two or more; a session that timed out is
 * dropped and counted nowhere), every state present, 0 when none.
 */
export function definePeerMetrics(metrics: ServiceMetrics, sessions: PeerSessions): void {
  metrics.gauge({
    name: "sorcha_hub_connected_peers",
    help:
      "Peers with a live session on this hub, by heartbeat state (healthy; warning: one beat missed; critical: two or more, dropped at the maximum).",
    labels: ["heartbeat_state"],
    observe: () =>
      Object.entries(sessions.countByHealth()).map(([state, value]) => ({
        value,
        labels: { heartbeat_state: state },
      })),
  });
}
