/**
 * Gossip's metrics: rounds run and exchanges failed, recorded where they
 * happen, and the known peers, read from the membership list at each export.
 *
 * @module
 */
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";

/** Records gossip's events where they happen. */
export interface GossipRecorder {
  /** Counts one round run. */
  round(): void;
  /** Counts one exchange with a member that failed. */
  exchangeFailed(): void;
}

/** What the gossip gauges read at each export. */
export interface GossipMetricsSource {
  /** How many peers the membership list holds (seeds not reached yet included). */
  knownPeers(): number;
}

/**
 * Defines `sorcha_peer_gossip_rounds_total`, `sorcha_peer_gossip_exchange_failures_total`
 * and `sorcha_peer_gossip_known_peers` (read from `source`); returns the recorder of the first two.
 */
export function gossipMetrics(
  metrics: ServiceMetrics,
  source: GossipMetricsSource,
): GossipRecorder {
  const rounds = metrics.counter({
    name: "sorcha_peer_gossip_rounds_total",
    help: "Gossip rounds run (not those skipped while advertisements are not loaded yet).",
  });
  const failures = metrics.counter({
    name: "sorcha_peer_gossip_exchange_failures_total",
    help: "Gossip exchanges with a peer that failed (unreachable, refused, or an invalid answer).",
  });
  metrics.gauge({
    name: "sorcha_peer_gossip_known_peers",
    help: "Peers on the gossip membership list, seeds included.",
    observe: () => source.knownPeers(),
  });
  return {
    round: () => rounds.add(),
    exchangeFailed: () => failures.add(),
  };
}
