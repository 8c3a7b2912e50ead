/**
 * The metrics and spans of the sync streams the hub serves. A stream's span
 * (`hub.sync.full` or `hub.sync.incremental`) lasts as long as the stream,
 * across the yields of its generator, so it is started and ended by hand
 * (`startSpan`) rather than around one call.
 *
 * @module
 */
import {
  type CounterMetric,
  failSpan,
  type HistogramMetric,
  type ServiceMetrics,
  type Span,
  SpanKind,
  startSpan,
} from "../../shared/telemetry/mod.ts";

/** The kind of a sync stream. */
export type SyncKind = "full" | "incremental";

/** What the sync streams record. */
export interface SyncRecorder {
  /** `sorcha_hub_sync_streams_total{kind}`: a stream began sending. */
  streams: CounterMetric<"kind">;
  /** `sorcha_hub_sync_duration_seconds{kind}`: how long a stream took, sent or failed. */
  duration: HistogramMetric<"kind">;
}

/** Defines the sync streams' metrics on `metrics`. */
export function defineSyncMetrics(metrics: ServiceMetrics): SyncRecorder {
  return {
    streams: metrics.counter({
      name: "sorcha_hub_sync_streams_total",
      help: "Sync streams this hub began serving to peers, by kind (full or incremental).",
      labels: ["kind"],
    }),
    duration: metrics.histogram({
      name: "sorcha_hub_sync_duration_seconds",
      help:
        "How long serving a sync stream took, by kind, from its first entry read to its end (sent in full, or failed).",
      labels: ["kind"],
    }),
  };
}

/** A sync stream being served: its span, and its figures once it ends. */
export interface SyncStreamTelemetry {
  /** Ends the span (failed with `error` when given) and records the stream's duration. */
  end(result: { entries: number; version: number; error?: unknown }): void;
}

/**
 * Starts the `hub.sync.<kind>` span (attributes `sorcha.peer.id`,
 * `sorcha.sync.from_version`; at its end `sorcha.sync.entries` and
 * `sorcha.sync.to_version`) and counts the stream on `recorder`.
 */
export function startSyncStream(
  kind: SyncKind,
  stream: { peerId: string; fromVersion: number; recorder?: SyncRecorder | undefined },
): SyncStreamTelemetry {
  const began = performance.now();
  const span: Span = startSpan(`hub.sync.${kind}`, {
    kind: SpanKind.SERVER,
    attributes: { "sorcha.peer.id": stream.peerId, "sorcha.sync.from_version": stream.fromVersion },
  });
  stream.recorder?.streams.add(1, { kind });
  return {
    end({ entries, version, error }) {
      span.setAttributes({ "sorcha.sync.entries": entries, "sorcha.sync.to_version": version });
      if (error !== undefined) failSpan(span, error);
      span.end();
      stream.recorder?.duration.record((performance.now() - began) / 1000, { kind });
    },
  };
}
