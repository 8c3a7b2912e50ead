/**
 * The metrics of the reconciliation with the peer: each full sync recorded
 * where it ends (outcome, duration, the peer's counts of what it changed),
 * and the retry state observed from the sync's status at each export.
 *
 * @module
 */
import type { BulkAdvertiseResponse } from "../../shared/contracts/advertisements.ts";
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";

/** What the gauges read: the sync's own figures (as `GET /api/resync/status` shows them). */
export interface ReconciliationFigures {
  /** Full syncs failed in a row (0 after a success). */
  consecutiveFailures: number;
  /** Whether the retry loop runs. */
  retrying: boolean;
}

/** One reconciliation run, as recorded. */
export interface ReconciliationRun {
  /** How long it took, in ms. */
  durationMs: number;
  /** Whether it failed (refused as invalid, or not answered). */
  failed: boolean;
  /** The peer's counts, after a success. */
  result: BulkAdvertiseResponse | undefined;
}

/** Records reconciliation runs. */
export interface ReconciliationRecorder {
  /** Records one run: its outcome, its duration and what the peer changed. */
  record(run: ReconciliationRun): void;
}

/**
 * Defines on `metrics`: `sorcha_register_reconciliation_runs_total{outcome}`,
 * `sorcha_register_reconciliation_duration_seconds`,
 * `sorcha_register_reconciliation_items_total{change}` (recorded through the
 * recorder returned), and the gauges
 * `sorcha_register_reconciliation_consecutive_failures` and
 * `sorcha_register_reconciliation_retrying`, read from `figures`.
 */
export function defineReconciliationMetrics(
  metrics: ServiceMetrics,
  figures: () => ReconciliationFigures,
): ReconciliationRecorder {
  const runs = metrics.counter({
    name: "sorcha_register_reconciliation_runs_total",
    help: "Full syncs of the advertised registers with the peer, by outcome (ok or failed).",
    labels: ["outcome"],
  });
  const duration = metrics.histogram({
    name: "sorcha_register_reconciliation_duration_seconds",
    help: "How long a full sync with the peer took, succeeded or failed.",
  });
  const items = metrics.counter({
    name: "sorcha_register_reconciliation_items_total",
    help:
      "Advertisements the peer changed answering the full syncs, by change (added, updated, removed): what reconciliation repaired.",
    labels: ["change"],
  });
  metrics.gauge({
    name: "sorcha_register_reconciliation_consecutive_failures",
    help: "Full syncs with the peer failed in a row (0 after a success).",
    observe: () => figures().consecutiveFailures,
  });
  metrics.gauge({
    name: "sorcha_register_reconciliation_retrying",
    help: "1 while full syncs with the peer are retried with backoff after a failure, else 0.",
    observe: () => (figures().retrying ? 1 : 0),
  });
  return {
    record({ durationMs, failed, result }) {
      runs.add(1, { outcome: failed ? "failed" : "ok" });
      duration.record(durationMs / 1000);
      if (!result) return;
      // Every change appears from the first run on, 0 until something changes.
      items.add(result.added, { change: "added" });
      items.add(result.updated, { change: "updated" });
      items.add(result.removed, { change: "removed" });
    },
  };
}
