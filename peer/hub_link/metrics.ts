/**
 * The hub link's metrics, in the link process (`link_main.ts`): one
 * {@link ServiceMetrics} of the peer, exported over OTLP by the process
 * itself and rendered for the peer's `/metrics` through the pipes
 * (`ipc.ts`). What the link's status keeps (state, failovers, misses,
 * notifications, the replica and its sync counters) is observed from it at
 * each export; heartbeat latencies and sync durations and entries are
 * recorded where they happen, through {@link LinkRecorder}.
 *
 * This module loads `prom-client`: only the link process's entry point
 * imports it, never the link's own modules.
 *
 * @module
 */
import {
  type CounterMetric,
  type HistogramMetric,
  ServiceMetrics,
} from "../../shared/telemetry/mod.ts";
import type { SyncKind } from "../replica/mod.ts";
import type { LinkRecorder } from "./recorder.ts";
import { CONNECTION_STATES, type HubLinkStatus, type SyncResult } from "./status.ts";

/** Buckets of heartbeat round trips, in seconds: 1 ms to 10 s. */
const HEARTBEAT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const SYNC_KINDS: readonly SyncKind[] = ["full", "incremental"];

/** How far the replica is behind the connected hub, in versions; 0 without a session. */
export function replicaLag(status: HubLinkStatus): number {
  if (!status.session) return 0;
  return Math.max(0, status.session.hubVersion - (status.replica.checkpoint?.version ?? 0));
}

/** The link process's metrics; see the module documentation. */
export class LinkMetrics implements LinkRecorder {
  /** The registry and meter every metric is defined in. */
  readonly metrics: ServiceMetrics;
  readonly #heartbeatLatency: HistogramMetric<never>;
  readonly #syncDuration: HistogramMetric<"kind">;
  readonly #syncEntries: CounterMetric<"kind">;
  readonly #failed: Record<SyncKind, number> = { full: 0, incremental: 0 };

  /** The metrics of the link whose status `status` reads (called at each export). */
  constructor(status: () => HubLinkStatus) {
    const metrics = new ServiceMetrics("peer");
    this.metrics = metrics;
    metrics.gauge({
      name: "sorcha_peer_hub_connection_state",
      help: "1 for the hub link's connection state, 0 for each other state.",
      labels: ["state"],
      observe: () => {
        const state = status().state;
        return CONNECTION_STATES.map((each) => ({
          value: each === state ? 1 : 0,
          labels: { state: each },
        }));
      },
    });
    metrics.observedCounter({
      name: "sorcha_peer_hub_failovers_total",
      help: "Failovers (and fail-backs) from one hub to another since the link process started.",
      observe: () => status().failovers,
    });
    this.#heartbeatLatency = metrics.histogram({
      name: "sorcha_peer_hub_heartbeat_latency_seconds",
      help: "Round trip of acknowledged heartbeats to the connected hub.",
      buckets: HEARTBEAT_BUCKETS,
    });
    metrics.observedCounter({
      name: "sorcha_peer_hub_heartbeat_misses_total",
      help: "Heartbeats the hub did not answer in time, or failed.",
      observe: () => status().heartbeat.totalMissed,
    });
    metrics.observedCounter({
      name: "sorcha_peer_hub_push_notifications_total",
      help: "Publication notifications received from hubs.",
      observe: () => status().subscription.notifications,
    });
    metrics.gauge({
      name: "sorcha_peer_replica_version",
      help: "The system register version the replica holds (0: never synced).",
      observe: () => status().replica.checkpoint?.version ?? 0,
    });
    metrics.gauge({
      name: "sorcha_peer_replica_lag_versions",
      help:
        "Versions the replica is behind the connected hub's last known version (0 when unknown).",
      observe: () => replicaLag(status()),
    });
    metrics.gauge({
      name: "sorcha_peer_replica_blueprints",
      help: "Blueprints in the replica's active set.",
      observe: () => status().replica.checkpoint?.blueprints ?? 0,
    });
    this.#syncDuration = metrics.histogram({
      name: "sorcha_peer_sync_duration_seconds",
      help: "Duration of completed syncs of the replica, by kind.",
      labels: ["kind"],
    });
    metrics.observedCounter({
      name: "sorcha_peer_syncs_total",
      help: "Syncs of the replica, by kind and outcome.",
      labels: ["kind", "outcome"],
      observe: () => {
        const replica = status().replica;
        const ok: Record<SyncKind, number> = {
          full: replica.fullSyncs,
          incremental: replica.incrementalSyncs,
        };
        return SYNC_KINDS.flatMap((kind) => [
          { value: ok[kind], labels: { kind, outcome: "ok" } },
          { value: this.#failed[kind], labels: { kind, outcome: "failed" } },
        ]);
      },
    });
    this.#syncEntries = metrics.counter({
      name: "sorcha_peer_sync_entries_total",
      help: "Entries received by completed syncs, by kind.",
      labels: ["kind"],
    });
    metrics.observedCounter({
      name: "sorcha_peer_sync_rejected_entries_total",
      help: "Entries rejected (bad checksum, bad fields), never applied.",
      observe: () => status().replica.rejectedEntries,
    });
    metrics.observedCounter({
      name: "sorcha_peer_sync_digest_mismatches_total",
      help: "Times the replica's digest differed from the hub's (each followed by a full resync).",
      observe: () => status().replica.digestMismatches,
    });
  }

  /** Records an acknowledged heartbeat's round trip. */
  heartbeat(latencyMs: number): void {
    this.#heartbeatLatency.record(latencyMs / 1000);
  }

  /** Records a completed sync's duration and entries. */
  synced(result: SyncResult): void {
    this.#syncDuration.record(result.durationMs / 1000, { kind: result.kind });
    this.#syncEntries.add(result.entries, { kind: result.kind });
  }

  /** Counts a failed sync of `kind`. */
  syncFailed(kind: SyncKind): void {
    this.#failed[kind]++;
  }

  /** The Prometheus text of every metric. */
  render(): Promise<string> {
    return this.metrics.render();
  }
}
