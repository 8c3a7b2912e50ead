/**
 * Telemetry: metrics defined once for OpenTelemetry and `/metrics`
 * (`metrics.ts`), spans and trace context (`tracing.ts`).
 *
 * @module
 */
export * from "./metrics.ts";
export * from "./tracing.ts";
