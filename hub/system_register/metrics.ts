/**
 * The metrics of the hub's system register: its version, integrity and how
 * fresh its view of the store is, observed at each export; and the
 * publications it stores, counted where they happen.
 *
 * @module
 */
import type { CounterMetric, ServiceMetrics } from "../../shared/telemetry/mod.ts";

/** What {@link defineSystemRegisterMetrics} reads at each export. */
export interface SystemRegisterFigures {
  /** The highest version the hub has seen. */
  readonly version: number;
  /** Whether the last integrity check passed. */
  readonly integrity: { readonly ok: boolean };
  /** Seconds since the hub last read the store to its end (its poll for other hubs' entries). */
  storeReadAgeSeconds(): number;
}

/** What the system register records where it happens. */
export interface SystemRegisterRecorder {
  /** A publication stored a new entry. */
  published: CounterMetric<never>;
}

/**
 * Defines on `metrics`: `sorcha_hub_publications_total` (returned, to be
 * recorded), and the gauges `sorcha_hub_system_register_version`,
 * `sorcha_hub_integrity_ok` and `sorcha_hub_store_poll_lag_seconds`, read
 * from `figures`.
 */
export function defineSystemRegisterMetrics(
  metrics: ServiceMetrics,
  figures: SystemRegisterFigures,
): SystemRegisterRecorder {
  metrics.gauge({
    name: "sorcha_hub_system_register_version",
    help:
      "The highest system-register version this hub has seen (its own and other hubs' publications).",
    observe: () => figures.version,
  });
  metrics.gauge({
    name: "sorcha_hub_integrity_ok",
    help:
      "1 while the system register's last integrity check passed, 0 once it is found corrupt (nothing is served then).",
    observe: () => (figures.integrity.ok ? 1 : 0),
  });
  metrics.gauge({
    name: "sorcha_hub_store_poll_lag_seconds",
    help:
      "Age of the hub's last successful read of the store, in seconds: hubs sharing a store learn of each other's publications by polling it (STORE_POLL_SECONDS), so this stays under the poll interval while the store answers and grows while it does not.",
    observe: () => figures.storeReadAgeSeconds(),
  });
  return {
    published: metrics.counter({
      name: "sorcha_hub_publications_total",
      help:
        "Publications this hub stored as a new entry (a publication identical to the active entry stores nothing and is not counted).",
    }),
  };
}
