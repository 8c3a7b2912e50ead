/**
 * The advertisements' metrics: live advertisements and public registers,
 * read from the lease table at each export (the scan runs at scrape time
 * only, never on a request), and the advertise requests and bulk durations,
 * recorded where they happen (one counter add, and one histogram record for a
 * bulk request, per request: nothing per item).
 *
 * @module
 */
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import type { LiveCounts } from "./read_views.ts";

/** The kinds of advertise request counted. */
export type AdvertiseKind = "single" | "bulk" | "full_sync" | "withdraw";

/** Records the advertise requests where they are applied. */
export interface AdvertisementRecorder {
  /** Counts one request of `kind` applied. */
  request(kind: AdvertiseKind): void;
  /** Counts one bulk request (`full_sync` or `bulk`) and records how long it took, in seconds. */
  bulk(kind: "bulk" | "full_sync", seconds: number): void;
}

/** What the advertisement gauges read at each export. */
export interface AdvertisementMetricsSource {
  /** The live advertisements, counted. */
  counts(): LiveCounts;
  /** How many public registers `GET /api/registers/available` lists. */
  availableCount(): number;
}

/**
 * Defines `sorcha_peer_advertisements{scope}`, `sorcha_peer_registers_available`
 * (read from `source`), `sorcha_peer_advertise_requests_total{kind}` and
 * `sorcha_peer_bulk_advertise_duration_seconds`, and returns the recorder of the last two.
 */
export function advertisementMetrics(
  metrics: ServiceMetrics,
  source: AdvertisementMetricsSource,
): AdvertisementRecorder {
  metrics.gauge<"scope">({
    name: "sorcha_peer_advertisements",
    help: "Live advertisements: this node's own (local) and other peers' (remote).",
    labels: ["scope"],
    observe: () => {
      const counts = source.counts();
      return [
        { value: counts.localCount, labels: { scope: "local" } },
        { value: counts.remoteCount, labels: { scope: "remote" } },
      ];
    },
  });
  metrics.gauge({
    name: "sorcha_peer_registers_available",
    help: "Public registers listed by GET /api/registers/available (local and remote, once each).",
    observe: () => source.availableCount(),
  });
  const requests = metrics.counter<"kind">({
    name: "sorcha_peer_advertise_requests_total",
    help:
      "Advertise requests applied, by kind: single, bulk, full_sync (each part of one counts) and withdraw.",
    labels: ["kind"],
  });
  const duration = metrics.histogram({
    name: "sorcha_peer_bulk_advertise_duration_seconds",
    help: "How long bulk advertise requests took to apply, full syncs included, in seconds.",
  });
  const labels = {
    single: { kind: "single" },
    bulk: { kind: "bulk" },
    full_sync: { kind: "full_sync" },
    withdraw: { kind: "withdraw" },
  } as const;
  return {
    request(kind) {
      requests.add(1, labels[kind]);
    },
    bulk(kind, seconds) {
      requests.add(1, labels[kind]);
      duration.record(seconds);
    },
  };
}
