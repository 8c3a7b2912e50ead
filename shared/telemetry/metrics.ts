/**
 * A service's metrics, each defined once and fed to both exporters: the
 * OpenTelemetry API (`metrics.getMeter`, exported over OTLP by Deno's
 * built-in support when `OTEL_DENO=true`, a no-op otherwise) and a
 * `prom-client` registry (rendered at `GET /metrics`). A figure is recorded
 * by one call, or observed from the state that already holds it, never kept
 * twice by hand.
 *
 * Names follow the Prometheus conventions etcd and Consul use: snake_case,
 * prefixed `sorcha_<service>_`, the unit as a suffix (`_seconds`, `_bytes`),
 * `_total` for counters. OpenTelemetry gets the same name, a counter's
 * without its `_total` (OTLP-to-Prometheus converters add it back).
 *
 * @module
 */
import { type Attributes, type Meter, metrics, type ObservableCallback } from "@opentelemetry/api";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { VERSION } from "../version.ts";

/** The label values of one series, by label name. */
export type Labels<L extends string> = { readonly [K in L]: string };

/** What every metric has. */
export interface MetricInfo<L extends string> {
  /** The Prometheus name, such as `sorcha_peer_hub_failovers_total`. */
  name: string;
  /** One line saying what it counts or measures, for `# HELP`. */
  help: string;
  /** The names of its labels, if any. */
  labels?: readonly L[];
}

/** One value of an observed metric, with its labels. */
export interface Observation<L extends string> {
  /** The value. */
  value: number;
  /** Its labels (none when the metric has none). */
  labels?: Labels<L>;
}

/** Reads the current values of an observed metric: one number, or one per series. */
export type Observe<L extends string> = () => number | readonly Observation<L>[];

/** A counter recorded where its events happen. */
export interface CounterMetric<L extends string> {
  /** Adds `value` (default 1) to the series of `labels`. */
  add(value?: number, labels?: Labels<L>): void;
}

/** A histogram recorded where its events happen. */
export interface HistogramMetric<L extends string> {
  /** Records one observation of `value` in the series of `labels`. */
  record(value: number, labels?: Labels<L>): void;
}

/** Buckets for durations in seconds, from 1 ms to 30 s. */
export const DURATION_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
];

/** The OpenTelemetry name of a Prometheus name: a counter's without `_total`. */
function otelName(name: string): string {
  return name.endsWith("_total") ? name.slice(0, -"_total".length) : name;
}

function observations<L extends string>(observe: Observe<L>): readonly Observation<L>[] {
  const values = observe();
  return typeof values === "number" ? [{ value: values }] : values;
}

/** An OpenTelemetry observable's callback reporting what `observe` reads. */
function reportTo<L extends string>(observe: Observe<L>): ObservableCallback {
  return (result) => {
    for (const { value, labels } of observations(observe)) {
      result.observe(value, labels as Attributes | undefined);
    }
  };
}

/** The metrics of one service (one `prom-client` registry, one OpenTelemetry meter). */
export class ServiceMetrics {
  /** The `prom-client` registry `/metrics` renders. */
  readonly registry: Registry = new Registry();
  readonly #meter: Meter;
  readonly #names = new Set<string>();

  /** Metrics of `service` (`peer`, `register`, `hub`); the meter is named `sorcha-<service>`. */
  constructor(service: string) {
    this.#meter = metrics.getMeter(`sorcha-${service}`, VERSION);
  }

  /** A counter recorded by {@link CounterMetric.add}. */
  counter<L extends string = never>(info: MetricInfo<L>): CounterMetric<L> {
    const prom = new Counter({ ...this.#prom(info) });
    const otel = this.#meter.createCounter(otelName(info.name), { description: info.help });
    return {
      add(value = 1, labels?: Labels<L>) {
        if (labels) prom.inc(labels, value);
        else prom.inc(value);
        otel.add(value, labels as Attributes | undefined);
      },
    };
  }

  /**
   * A counter whose totals are kept by the state it counts (a status's
   * running count) and read with `observe` at each export.
   */
  observedCounter<L extends string = never>(info: MetricInfo<L> & { observe: Observe<L> }): void {
    new Counter({
      ...this.#prom(info),
      collect() {
        this.reset();
        for (const { value, labels } of observations(info.observe)) {
          if (labels) this.inc(labels, value);
          else this.inc(value);
        }
      },
    });
    this.#meter.createObservableCounter(otelName(info.name), { description: info.help })
      .addCallback(reportTo(info.observe));
  }

  /** A gauge read with `observe` at each export. */
  gauge<L extends string = never>(info: MetricInfo<L> & { observe: Observe<L> }): void {
    new Gauge({
      ...this.#prom(info),
      collect() {
        this.reset();
        for (const { value, labels } of observations(info.observe)) {
          if (labels) this.set(labels, value);
          else this.set(value);
        }
      },
    });
    this.#meter.createObservableGauge(info.name, { description: info.help })
      .addCallback(reportTo(info.observe));
  }

  /** A histogram recorded by {@link HistogramMetric.record} (default buckets: {@link DURATION_BUCKETS}). */
  histogram<L extends string = never>(
    info: MetricInfo<L> & { buckets?: readonly number[] },
  ): HistogramMetric<L> {
    const buckets = [...(info.buckets ?? DURATION_BUCKETS)];
    const prom = new Histogram({ ...this.#prom(info), buckets });
    const otel = this.#meter.createHistogram(info.name, {
      description: info.help,
      advice: { explicitBucketBoundaries: buckets },
    });
    return {
      record(value: number, labels?: Labels<L>) {
        if (labels) prom.observe(labels, value);
        else prom.observe(value);
        otel.record(value, labels as Attributes | undefined);
      },
    };
  }

  /** The Prometheus text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  #prom<L extends string>(info: MetricInfo<L>) {
    if (this.#names.has(info.name)) throw new Error(`metric ${info.name} is defined twice`);
    this.#names.add(info.name);
    return {
      name: info.name,
      help: info.help,
      labelNames: [...(info.labels ?? [])],
      registers: [this.registry],
    };
  }
}

/** The content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
